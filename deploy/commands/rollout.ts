import type { Command } from '../../common/command.js';
import { BookrecError } from '../../common/errors.js';
import type { RolloutContext } from '../channelState.js';
import { deployConfig, rolloutSchema } from '../config.js';
import { describeJudgement } from '../failureRule.js';
import { rollback } from '../rollback.js';
import { changeRollout } from '../rollout.js';
import { describeDecision, GateError } from '../rolloutGate.js';
import { openSession } from '../session.js';

const command: Command = {
  path: ['rollout'],
  summary:
    'widen (or narrow) the rollout of the current release, with an optional abort rule and quality gate',
  usage: '--channel CHANNEL --percent N',
  schema: rolloutSchema,
  examples: [
    'bookrec rollout --channel stable --percent 50 --max-failure-share 0.05',
    'bookrec rollout --channel stable --percent 100 --step 20 --gate-margin 0.02 --gate-action rollback',
  ],
  async run(args, ctx) {
    const config = deployConfig(rolloutSchema, { env: ctx.env, argv: args });
    if (config.rollout.percent === -1) throw new BookrecError('USAGE', 'give --percent (0..100)');
    const r = config.rollout;
    const session = await openSession(config, ctx);
    const rolloutCtx: RolloutContext = {
      transport: session.link,
      topics: session.topics,
      retained: session.retained,
      log: ctx.log.child('rollout'),
      keys: session.keys,
      signal: ctx.signal,
      onGate: (d) => ctx.print(describeDecision(d)),
      onFailureRule: (j) => ctx.print(describeJudgement(j)),
      persist: () => session.link.persist(),
    };
    try {
      const manifest = await changeRollout(
        rolloutCtx,
        {
          channel: session.channel,
          percent: r.percent,
          maxFailureShare: r.maxFailureShare,
          minReports: r.minReports,
          step: r.step,
          stepWaitMs: r.stepWaitSeconds * 1000,
          gate:
            r.gateMargin < 0
              ? undefined
              : {
                  rule: { margin: r.gateMargin, minRecommendations: r.gateMinRecommendations },
                  action: r.gateAction,
                  waitMs: r.gateWaitSeconds * 1000,
                  pollMs: r.gatePollSeconds * 1000,
                },
        },
        session.key,
      );
      ctx.print(
        `${manifest.channel} version ${manifest.version} now at ${manifest.rollout.percent}% (serial ${manifest.serial})`,
      );
    } catch (err) {
      // A worse release with --gate-action rollback: return the channel to its previous release.
      if (err instanceof GateError && err.decision.verdict === 'stop' && r.gateAction === 'rollback') {
        const back = await rollback(
          {
            ...rolloutCtx,
            log: ctx.log.child('rollback'),
            inFlight: config.publish.inFlight,
            maxChunksPerSecond: config.publish.maxChunksPerSecond,
          },
          session.channel,
          session.key,
        );
        ctx.print(`${back.channel} rolled back to version ${back.version} (serial ${back.serial})`);
      }
      throw err;
    } finally {
      await session.link.close();
    }
  },
};

export default command;
