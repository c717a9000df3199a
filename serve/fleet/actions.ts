import { createPublicKey, type KeyObject } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorMessage, isBookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { contract } from '../../common/protocol/contract.js';
import { Name } from '../../common/protocol/fields.js';
import { rawPublicKey, trustedKeys } from '../../common/protocol/signing.js';
import type { TopicMap } from '../../common/protocol/topics.js';
import type { RolloutContext } from '../../deploy/channelState.js';
import type { DeployLink } from '../../deploy/link.js';
import { rollback } from '../../deploy/rollback.js';
import { changeRollout } from '../../deploy/rollout.js';
import { HttpError } from '../httpError.js';
import type { TokenGuard } from './tokenGuard.js';

/**
 * The dashboard's three write actions, each the deploy code the terminal commands run: rollout
 * (re-signs the channel's manifest with a new percent), rollback (the signed rollback manifest), and
 * forget (clears a device's retained status and counters). Every one needs the bearer token from the
 * configuration; without a configured token the dashboard is read-only. One action runs at a time.
 */
const RolloutBody = contract(
  'fleet-rollout',
  'POST /v1/fleet/rollout body',
  Type.Object(
    {
      channel: Name('a channel name'),
      percent: Type.Number({ minimum: 0, maximum: 100, description: 'a number 0..100' }),
    },
    { additionalProperties: false },
  ),
);
const RollbackBody = contract(
  'fleet-rollback',
  'POST /v1/fleet/rollback body',
  Type.Object({ channel: Name('a channel name') }, { additionalProperties: false }),
);
const ForgetBody = contract(
  'fleet-forget',
  'POST /v1/fleet/forget body',
  Type.Object({ deviceId: Name('a device id') }, { additionalProperties: false }),
);

export interface ActionContext {
  /**
   * A connection of the action's own, closed after it. Not the dashboard's: deploy reads retained state by
   * subscribing and unsubscribing, which on a shared client would end the dashboard's live subscriptions
   * (and mqtt.js skips a SUBSCRIBE it already holds, so no retained message would come back).
   */
  connect: () => Promise<DeployLink>;
  topics: TopicMap;
  log: Logger;
  /** Checks the operator token (refuses without one configured: read-only). */
  guard: Pick<TokenGuard, 'act'>;
  /** The signing key for rollout and rollback; undefined: those two are unavailable. */
  key: KeyObject | undefined;
  retained: RolloutContext['retained'];
  onForget: (deviceId: string) => void;
}

function body<T>(c: { problems(v: unknown, max?: number): string[] }, value: unknown): T {
  const problems = c.problems(value, 10);
  if (problems.length > 0)
    throw new HttpError(400, 'BAD_REQUEST', `request: ${problems.join('; ')}`, problems);
  return value as T;
}

export function actionRoutes(app: FastifyInstance, ctx: ActionContext): void {
  let busy = false;
  const keys = ctx.key ? trustedKeys([rawPublicKey(createPublicKey(ctx.key)).toString('base64')]) : new Map();
  const rolloutCtx = (link: DeployLink): RolloutContext => ({
    transport: link,
    topics: ctx.topics,
    retained: ctx.retained,
    log: ctx.log,
    keys,
    // The broker saves the new manifest to disk before the action reports success, as the CLI's do.
    persist: () => link.persist(),
  });
  const signingKey = (): KeyObject => {
    if (!ctx.key) {
      throw new HttpError(
        503,
        'NO_SIGNING_KEY',
        'rollout and rollback need the signing key: start with --key-file',
      );
    }
    return ctx.key;
  };
  /** Runs one action at a time (the route checked the token); deploy's own errors (no release, no previous) are the client's 409. */
  const run = async <T>(
    req: FastifyRequest,
    what: string,
    action: (link: DeployLink) => Promise<T>,
  ): Promise<T> => {
    if (busy) throw new HttpError(409, 'BUSY', 'another action is running; try again when it is done');
    busy = true;
    let link: DeployLink | undefined;
    try {
      link = await ctx.connect();
      const result = await action(link);
      ctx.log.info(`dashboard ${what}`, { from: req.ip });
      return result;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (isBookrecError(err)) throw new HttpError(409, err.code, err.message);
      throw new HttpError(502, 'ACTION_FAILED', `${what} failed: ${errorMessage(err)}`);
    } finally {
      busy = false;
      await link?.close();
    }
  };

  app.post('/v1/fleet/rollout', async (req) => {
    ctx.guard.act(req);
    const { channel, percent } = body<{ channel: string; percent: number }>(RolloutBody, req.body);
    const key = signingKey();
    return run(req, 'rollout', async (link) => {
      const m = await changeRollout(
        rolloutCtx(link),
        { channel, percent, maxFailureShare: 1, minReports: 0, step: 0, stepWaitMs: 0 },
        key,
      );
      return { channel: m.channel, version: m.version, percent: m.rollout.percent, serial: m.serial };
    });
  });

  app.post('/v1/fleet/rollback', async (req) => {
    ctx.guard.act(req);
    const { channel } = body<{ channel: string }>(RollbackBody, req.body);
    const key = signingKey();
    return run(req, 'rollback', async (link) => {
      const m = await rollback({ ...rolloutCtx(link), inFlight: 8, maxChunksPerSecond: 0 }, channel, key);
      return { channel: m.channel, version: m.version, serial: m.serial };
    });
  });

  app.post('/v1/fleet/forget', async (req) => {
    ctx.guard.act(req);
    const { deviceId } = body<{ deviceId: string }>(ForgetBody, req.body);
    return run(req, 'forget', async (link) => {
      // An empty retained payload clears the topic on the broker; the views drop the device with it.
      for (const kind of ['status', 'report', 'counters', 'mode'] as const) {
        await link.publish(ctx.topics.device(deviceId, kind), '', { retain: true });
      }
      ctx.onForget(deviceId);
      return { deviceId, forgotten: true };
    });
  });
}
