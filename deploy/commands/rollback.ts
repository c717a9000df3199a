import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { deployConfig, deploySchema } from '../config.js';
import { rollback } from '../rollback.js';
import { openSession } from '../session.js';

const USAGE = 'bookrec rollback --channel C [--force]';

const command: Command = {
  path: ['rollback'],
  summary: 'publish a signed manifest that returns a channel to its previous release',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
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
        { force: config.force },
      );
      ctx.print(`${manifest.channel} rolled back to version ${manifest.version} (serial ${manifest.serial})`);
    } finally {
      await session.link.close();
    }
  },
};

export default command;
