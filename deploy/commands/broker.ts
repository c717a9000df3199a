import type { Command } from '../../common/command.js';
import { BookrecError, isBookrecError } from '../../common/errors.js';
import { startEmbeddedBroker } from '../broker.js';
import { brokerSchema, deployConfig } from '../config.js';

const command: Command = {
  path: ['broker'],
  summary: 'run the embedded MQTT 3.1.1 broker (aedes) for demos, until SIGINT/SIGTERM',
  usage: '',
  schema: brokerSchema,
  examples: [
    'bookrec broker                 # 127.0.0.1:1883',
    'bookrec broker --port 1884     # when 1883 is taken (e.g. by mosquitto); then --broker mqtt://127.0.0.1:1884',
  ],
  async run(args, ctx) {
    const config = deployConfig(brokerSchema, { env: ctx.env, argv: args });
    const broker = await startEmbeddedBroker({
      host: config.embedded.host,
      port: config.embedded.port,
      log: ctx.log.child('broker'),
    }).catch((err: unknown) => {
      throw portTaken(err, config.embedded.port) ?? err;
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

/** A taken port, with the flag that fixes it (another port, or 0 for any free one). */
function portTaken(err: unknown, port: number): BookrecError | undefined {
  if (!isBookrecError(err) || (err.cause as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE')
    return undefined;
  const other = port > 0 && port < 65535 ? port + 1 : 1884;
  return new BookrecError(
    err.code,
    `${err.message}; run on another port with --port ${other} (or --port 0 for any free one), then connect with --broker mqtt://127.0.0.1:${other}`,
    { cause: err },
  );
}

export default command;
