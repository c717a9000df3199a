import { type Command, checkFlags } from '../../cli/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import { deployConfig, deploySchema } from '../config.js';
import { changeRollout } from '../rollout.js';
import { openSession } from '../session.js';

const USAGE =
  'bookrec rollout --channel C --percent P [--max-failure-share S --min-reports N] [--step P --step-wait-seconds T]';

const command: Command = {
  path: ['rollout'],
  summary: 'widen (or narrow) the rollout of the current release, with an optional abort rule',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
    if (config.rollout.percent === -1) throw new BookrecError('USAGE', `give --percent; usage: ${USAGE}`);
    const session = await openSession(config, ctx);
    try {
      const manifest = await changeRollout(
        {
          transport: session.link,
          topics: session.topics,
          retained: session.retained,
          log: ctx.log.child('rollout'),
          keys: session.keys,
          signal: ctx.signal,
        },
        {
          channel: session.channel,
          percent: config.rollout.percent,
          maxFailureShare: config.rollout.maxFailureShare,
          minReports: config.rollout.minReports,
          step: config.rollout.step,
          stepWaitMs: config.rollout.stepWaitSeconds * 1000,
        },
        session.key,
      );
      ctx.print(
        `${manifest.channel} version ${manifest.version} now at ${manifest.rollout.percent}% (serial ${manifest.serial})`,
      );
    } finally {
      await session.link.close();
    }
  },
};

export default command;
