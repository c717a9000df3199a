import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { chunksOf } from '../common/protocol/chunker.js';
import { MANIFEST_FORMAT, type SignedManifest } from '../common/protocol/manifest.js';
import { signManifest } from '../common/protocol/signing.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { PublishTransport, Transport } from '../common/protocol/transport.js';
import { type ChannelState, highestVersion, nextSerial, readChannelState } from './channelState.js';
import type { PackageFile } from './packageFiles.js';
import type { RetainedOptions } from './retained.js';
import type { VersionLedger } from './versionLedger.js';

/** What publishing needs: the link, the topic map, pacing, and where progress goes. */
export interface PublishContext {
  transport: Transport;
  topics: TopicMap;
  log: Logger;
  retained: RetainedOptions;
  /** Chunks published and not yet acknowledged at once. */
  inFlight: number;
  /** 0: as fast as the broker acknowledges. */
  maxChunksPerSecond: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  now?: () => number;
  /** Makes the broker save its retained state to disk (DeployLink.persist); called after a manifest. */
  persist?: () => Promise<void>;
  /** Version numbers this machine has used (deploy/versionLedger.ts): they never repeat. */
  ledger?: VersionLedger;
}

export interface ReleaseRequest {
  channel: string;
  model: string;
  /** 0: the channel's highest version so far + 1. */
  version: number;
  minAgentVersion: string;
  metrics: Record<string, number>;
  percent: number;
  files: PackageFile[];
  /**
   * The rollout salt (16 hex digits), which picks the devices inside the percent; default: a random
   * one. The simulator passes one made from its seed: the same seed, the same canary devices.
   */
  salt?: string;
}

/**
 * Publishes a release in the order that keeps devices safe if the publisher dies at any point:
 * 1. the release record (signed manifest beside the chunks): an index, so an interrupted release can be
 *    cleaned up later; devices never act on it;
 * 2. every chunk, retained at QoS 1, so devices that join later get them from the broker;
 * 3. the channel manifest, retained: only now do devices see the release, and it is complete;
 * 4. clearing the chunks of releases the new manifest no longer refers to.
 */
export async function publishRelease(
  ctx: PublishContext,
  request: ReleaseRequest,
  key: KeyObject,
): Promise<SignedManifest> {
  const log = ctx.log;
  const now = ctx.now ?? Date.now;
  const state = await readChannelState(ctx, request.channel);
  const current = state.current;
  const known = highestVersion(state);
  const used = (await ctx.ledger?.highest(request.channel)) ?? 0;
  if (used > known) {
    log.warn('the broker has lost releases: numbering goes on from what this machine published', {
      channel: request.channel,
      brokerHighest: known,
      publishedHighest: used,
      ledger: ctx.ledger?.file,
    });
  }
  if (request.version > 0 && request.version <= used) {
    throw new BookrecError(
      'VERSION_REUSED',
      `version ${request.version} of channel ${request.channel} was published from here before (the highest so far is ${used}, ${ctx.ledger?.file}): a version number names content, so it never repeats; give ${used + 1} or more, or leave the version out`,
    );
  }
  const version = request.version || Math.max(known, used) + 1;
  if (current && version <= current.version) {
    throw new BookrecError(
      'VERSION_NOT_NEWER',
      `version ${version} is not above the channel's current ${current.version} (use rollback to go back)`,
    );
  }
  if (version <= highestVersion(state) && !state.records.has(version)) {
    log.warn('version reuses a number seen before on this channel', {
      version,
      highest: highestVersion(state),
    });
  }
  const manifest = signManifest(
    {
      format: MANIFEST_FORMAT,
      channel: request.channel,
      model: request.model,
      version,
      serial: nextSerial(current, now()),
      createdAt: new Date(now()).toISOString(),
      files: request.files.map((f) => f.entry),
      rollout: { percent: request.percent, salt: request.salt ?? randomBytes(8).toString('hex') },
      minAgentVersion: request.minAgentVersion,
      metrics: request.metrics,
      rollback: false,
      previousVersion: current?.version ?? null,
    },
    key,
  );
  const earlier = state.records.get(version);
  await ctx.transport.publish(ctx.topics.releaseRecord(request.channel, version), JSON.stringify(manifest), {
    retain: true,
    json: true,
  });
  if (earlier) await clearChunks(ctx, earlier, manifest);

  const jobs: Job[] = [];
  request.files.forEach((f, file) => {
    let chunk = 0;
    for (const payload of chunksOf(f.data, f.entry.chunkSize)) {
      jobs.push({
        topic: ctx.topics.chunk({ channel: request.channel, version, file, chunk: chunk++ }),
        payload,
      });
    }
  });
  log.info('publishing chunks', { channel: request.channel, version, chunks: jobs.length });
  await runPaced(ctx, ctx.transport, jobs, ctx.onProgress);

  // Before devices can see the number: a publish killed from here on has used it. (One killed while
  // sending chunks has not: devices never saw it, and publishing that version again is allowed.)
  await ctx.ledger?.record(request.channel, version);
  await ctx.transport.publish(ctx.topics.manifest(request.channel), JSON.stringify(manifest), {
    retain: true,
    json: true,
  });
  log.info('manifest published', { channel: request.channel, version, serial: manifest.serial });
  await ctx.persist?.();
  await clearUnreferenced(ctx, state, manifest);
  return manifest;
}

/**
 * Clears (empty retained messages) the chunks and records of every release of the channel that the
 * manifest does not refer to: only its own version and the previous one (the rollback target) stay.
 */
export async function clearUnreferenced(
  ctx: PublishContext,
  state: ChannelState,
  manifest: SignedManifest,
  keepRecords: number[] = [],
): Promise<number[]> {
  const keep = new Set([manifest.version, manifest.previousVersion]);
  const cleared: number[] = [];
  for (const [version, record] of state.records) {
    if (keep.has(version)) continue;
    await clearChunks(ctx, record);
    if (!keepRecords.includes(version)) {
      await ctx.transport.publish(ctx.topics.releaseRecord(record.channel, version), '', { retain: true });
    }
    cleared.push(version);
  }
  if (cleared.length > 0)
    ctx.log.info('cleared old releases', { channel: manifest.channel, versions: cleared });
  return cleared;
}

/** Clears a release's chunks, except those a newer publish of the same version overwrites anyway. */
export async function clearChunks(ctx: PublishContext, record: SignedManifest, overwrite?: SignedManifest) {
  const jobs: Job[] = [];
  record.files.forEach((f, file) => {
    const kept = overwrite?.files[file]?.chunks ?? 0;
    for (let chunk = kept; chunk < f.chunks; chunk++) {
      jobs.push({
        topic: ctx.topics.chunk({ channel: record.channel, version: record.version, file, chunk }),
        payload: Buffer.alloc(0),
      });
    }
  });
  await runPaced(ctx, ctx.transport, jobs);
}

interface Job {
  topic: string;
  payload: Uint8Array;
}

/** Publishes retained messages with a bounded number in flight and an optional rate limit. */
async function runPaced(
  ctx: PublishContext,
  transport: PublishTransport,
  jobs: Job[],
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const interval = ctx.maxChunksPerSecond > 0 ? 1000 / ctx.maxChunksPerSecond : 0;
  const started = Date.now();
  let next = 0;
  let done = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < jobs.length && failure === undefined) {
      ctx.signal?.throwIfAborted();
      const i = next++;
      const wait = started + i * interval - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const p = jobs[i].payload;
      // A view, not a copy: a release is already held in memory once.
      await transport.publish(jobs[i].topic, Buffer.from(p.buffer, p.byteOffset, p.byteLength), {
        retain: true,
      });
      onProgress?.(++done, jobs.length);
    }
  };
  // Every worker settles before this returns: none keeps publishing after a failure is reported.
  const workers = Array.from({ length: Math.min(ctx.inFlight, jobs.length) }, () =>
    worker().catch((err: unknown) => {
      failure ??= err;
    }),
  );
  await Promise.all(workers);
  if (failure !== undefined) throw failure;
}
