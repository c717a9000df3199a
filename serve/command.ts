import type { Command } from '../common/command.js';
import { serveConfig, serveSchema } from './config.js';
import { ServeService } from './service.js';

/**
 * `bookrec serve`: the student as an HTTP service (POST /v1/recommend), the phone page, and with --fleet
 * the live fleet dashboard. Runs until SIGTERM/SIGINT, then finishes the requests in flight and exits.
 */
const command: Command = {
  path: ['serve'],
  summary: 'the student as an HTTP service, the reader’s phone page, and (--fleet) a live fleet dashboard',
  usage: '(--package DIR [--manifest SIGNED.json] | --channel C --trusted-keys KEYS) [--fleet]',
  schema: serveSchema,
  examples: [
    'bookrec serve --package out/quick/package',
    'bookrec serve --channel stable --trusted-keys "$(cat ~/.config/bookrec/deploy-key.pub)" --port 8080',
    'BOOKREC_FLEET_TOKEN=... bookrec serve --fleet --username deploy --key-file ~/.config/bookrec/deploy-key.pem',
  ],
  async run(args, ctx) {
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
