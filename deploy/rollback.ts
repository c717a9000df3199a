import type { KeyObject } from 'node:crypto';
import { BookrecError } from '../common/errors.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import { signManifest, verifyManifest } from '../common/protocol/signing.js';
import type { SeenStatus } from '../common/protocol/status.js';
import type { RolloutContext } from './channelState.js';
import { nextSerial, readChannelState, verifiedCurrent } from './channelState.js';
import { fleetSnapshot } from './fleet.js';
import { clearUnreferenced, type PublishContext } from './publisher.js';

/** What the fleet reported about one release: devices that failed or refused it, devices that installed it. */
export interface ReleaseReports {
  failed: number;
  installed: number;
  /** The first few failures: device, code and reason. */
  samples: string[];
}

/**
 * How devices fared with a release, from the update reports in their retained status and report (each
 * device counted once, by its latest report about that release; a device that runs it counts installed).
 */
export function releaseReports(
  devices: readonly SeenStatus[],
  channel: string,
  version: number,
): ReleaseReports {
  const out: ReleaseReports = { failed: 0, installed: 0, samples: [] };
  for (const d of devices) {
    const reports = [...d.updates, ...(d.lastUpdate ? [d.lastUpdate] : [])];
    const last = reports.filter((u) => u.channel === channel && u.version === version).at(-1);
    const runs = d.model?.channel === channel && d.model.version === version;
    if (runs || last?.result === 'installed') out.installed++;
    else if (last) {
      out.failed++;
      if (out.samples.length < 3)
        out.samples.push(`${d.deviceId}: ${last.result} ${last.code ?? ''} ${last.reason ?? ''}`.trim());
    }
  }
  return out;
}

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
  options: { force?: boolean } = {},
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
  // Going back to a release the devices could not install would leave them on whatever they run now,
  // with the channel naming a release none of them has: refused unless the operator insists.
  const reports = releaseReports(
    (await fleetSnapshot(ctx.transport, ctx.topics, ctx.retained)).list(),
    channel,
    target.version,
  );
  if (reports.failed > 0) {
    const what = `version ${target.version} was refused or failed on ${reports.failed} device(s) and installed on ${reports.installed}`;
    if (!options.force) {
      throw new BookrecError(
        'ROLLBACK_UNSAFE',
        `${what} (${reports.samples.join('; ')}); roll back anyway with --force, or publish a good release`,
      );
    }
    ctx.log.warn('rolling back to a release devices failed to install (--force)', { channel, ...reports });
  }
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
  await ctx.persist?.();
  ctx.log.info('rolled back', {
    channel,
    from: current.version,
    to: manifest.version,
    serial: manifest.serial,
  });
  await clearUnreferenced(ctx, state, manifest, [current.version]);
  return manifest;
}
