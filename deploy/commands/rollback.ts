import type { Command } from '../../common/command.js';
import { deployConfig, rollbackSchema } from '../config.js';
import { rollback } from '../rollback.js';
import { openSession } from '../session.js';

const command: Command = {
  path: ['rollback'],
  summary: 'publish a signed manifest that returns a channel to its previous release',
  usage: '--channel CHANNEL',
  schema: rollbackSchema,
  examples: ['bookrec rollback --channel stable'],
  async run(args, ctx) {
    const config = deployConfig(rollbackSchema, { env: ctx.env, argv: args });
    const session = await openSession(config, ctx);
    try {
      const manifest = await rollback(
        {
          transport: session.link,
          topics: session.topics,
          retained: session.retained,
          log: ctx.log.child('rollback'),
          keys: session.keys,
          inFlight: config.publish.inFlight,
          maxChunksPerSecond: config.publish.maxChunksPerSecond,
          signal: ctx.signal,
          persist: () => session.link.persist(),
        },
        session.channel,
        session.key,
        { force: config.rollback.force },
      );
      ctx.print(`${manifest.channel} rolled back to version ${manifest.version} (serial ${manifest.serial})`);
    } finally {
      await session.link.close();
    }
  },
};

export default command;
