import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import type { RolloutContext } from '../channelState.js';
import { deployConfig, deploySchema } from '../config.js';
import { rollback } from '../rollback.js';
import { changeRollout } from '../rollout.js';
import { describeDecision, GateError } from '../rolloutGate.js';
import { openSession } from '../session.js';

const USAGE =
  'bookrec rollout --channel C --percent P [--max-failure-share S --min-reports N] [--step P --step-wait-seconds T] [--gate-margin M --gate-min-recommendations N --gate-action hold|rollback --gate-wait-seconds T]';

const command: Command = {
  path: ['rollout'],
  summary:
    'widen (or narrow) the rollout of the current release, with an optional abort rule and quality gate',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
    if (config.rollout.percent === -1) throw new BookrecError('USAGE', `give --percent; usage: ${USAGE}`);
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
