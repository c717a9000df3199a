import { type Command, checkFlags } from '../common/command.js';
import { describeSchema, schemaFlags } from '../common/config.js';
import { serveConfig, serveSchema } from './config.js';
import { ServeService } from './service.js';

const USAGE =
  'bookrec serve (--package DIR [--manifest SIGNED.json] | --channel C --trusted-keys KEYS) [--fleet] [--port P]';

/**
 * `bookrec serve`: the student as an HTTP service (POST /v1/recommend), the phone page, and with --fleet
 * the live fleet dashboard. Runs until SIGTERM/SIGINT, then finishes the requests in flight and exits.
 */
const command: Command = {
  path: ['serve'],
  summary: 'the student as an HTTP service, the reader’s phone page, and (--fleet) a live fleet dashboard',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(serveSchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(serveSchema), USAGE);
    const config = serveConfig({ env: ctx.env, argv: args });
    const service = new ServeService({ config, log: ctx.log.child('serve') });
    try {
      await service.start();
      ctx.print(`bookrec serve listening on ${service.url}`);
      if (!ctx.signal.aborted) {
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      }
    } finally {
      await service.stop();
    }
  },
};

export default command;
