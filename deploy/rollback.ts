import type { KeyObject } from 'node:crypto';
import { BookrecError } from '../common/errors.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import { signManifest, verifyManifest } from '../common/protocol/signing.js';
import type { RolloutContext } from './channelState.js';
import { nextSerial, readChannelState, verifiedCurrent } from './channelState.js';
import { clearUnreferenced, type PublishContext } from './publisher.js';

/**
 * Publishes a signed rollback manifest: the previous release's files and version, with the rollback
 * flag that lets devices install a lower version, to every device of the channel, under a new serial
 * (so an old rollback cannot be replayed later). The rolled-back release's chunks are cleared; its
 * record stays as a tombstone so the next automatic version number does not reuse its number.
 */
export async function rollback(
  ctx: RolloutContext & PublishContext,
  channel: string,
  key: KeyObject,
): Promise<SignedManifest> {
  const state = await readChannelState(ctx, channel);
  const current = verifiedCurrent(state, channel, ctx.keys);
  if (current.previousVersion === null) {
    throw new BookrecError(
      'NO_PREVIOUS',
      `channel ${channel} at version ${current.version} has no previous release to roll back to`,
    );
  }
  const target = state.records.get(current.previousVersion);
  if (!target) {
    throw new BookrecError(
      'NO_PREVIOUS',
      `the record of version ${current.previousVersion} is gone from the broker; publish that package again instead`,
    );
  }
  // Re-signing vouches for the content again: only content this key signed before qualifies.
  verifyManifest(target, ctx.keys);
  const { signature: _s, keyId: _k, ...body } = target;
  const manifest = signManifest(
    {
      ...body,
      serial: nextSerial(current, (ctx.now ?? Date.now)()),
      rollback: true,
      previousVersion: null,
      rollout: { percent: 100, salt: target.rollout.salt },
    },
    key,
  );
  await ctx.transport.publish(ctx.topics.manifest(channel), JSON.stringify(manifest), {
    retain: true,
    json: true,
  });
  ctx.log.info('rolled back', {
    channel,
    from: current.version,
    to: manifest.version,
    serial: manifest.serial,
  });
  await clearUnreferenced(ctx, state, manifest, [current.version]);
  return manifest;
}
