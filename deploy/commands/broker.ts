import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { startEmbeddedBroker } from '../broker.js';
import { deployConfig, deploySchema } from '../config.js';

const USAGE = 'bookrec broker [--host ADDRESS] [--port N]';

const command: Command = {
  path: ['broker'],
  summary: 'run the embedded MQTT 3.1.1 broker (aedes) for demos, until SIGINT/SIGTERM',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
    const broker = await startEmbeddedBroker({
      host: config.embedded.host,
      port: config.embedded.port,
      log: ctx.log.child('broker'),
    });
    ctx.print(`broker listening on ${broker.url} (MQTT 3.1.1, no authentication: demos only)`);
    try {
      if (!ctx.signal.aborted) {
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      }
    } finally {
      await broker.stop();
      ctx.print('broker stopped');
    }
  },
};

export default command;
