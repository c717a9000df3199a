import { createHash, createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chunkCount, chunksOf } from '../../common/protocol/chunker.js';
import {
  MANIFEST_FORMAT,
  type ReleaseManifest,
  type SignedManifest,
} from '../../common/protocol/manifest.js';
import {
  type ReceivedRelease,
  type ReceiverContext,
  type ReceiverEvent,
  ReleaseReceiver,
} from '../../common/protocol/receiver.js';
import {
  generateSigningKey,
  signManifest,
  type TrustedKeys,
  trustedKeys,
} from '../../common/protocol/signing.js';
import { TopicMap } from '../../common/protocol/topics.js';
import type { MessageTransport } from '../../common/protocol/transport.js';
import type { DeviceReleaseState } from '../../common/protocol/versionRule.js';
import { scaled } from './time.js';

export interface TestKey {
  key: KeyObject;
  publicKey: string;
  keyId: string;
  keys: TrustedKeys;
}

export function testKey(): TestKey {
  const pair = generateSigningKey();
  return {
    key: createPrivateKey(pair.privateKeyPem),
    publicKey: pair.publicKey,
    keyId: pair.keyId,
    keys: trustedKeys([pair.publicKey]),
  };
}

/** Deterministic pseudo-random bytes, so a failing test shows the same data again. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface ReleaseSpec {
  channel?: string;
  model?: string;
  version?: number;
  serial?: number;
  files?: { name: string; data: Buffer }[];
  chunkSize?: number;
  percent?: number;
  salt?: string;
  rollback?: boolean;
  previousVersion?: number | null;
  minAgentVersion?: string;
  metrics?: Record<string, number>;
}

export interface BuiltRelease {
  manifest: SignedManifest;
  /** Chunk topic -> payload. */
  chunks: Map<string, Buffer>;
  files: { name: string; data: Buffer }[];
}

/** A signed release built in memory, as deploy would publish it. */
export function buildRelease(key: KeyObject, topics: TopicMap, spec: ReleaseSpec = {}): BuiltRelease {
  const chunkSize = spec.chunkSize ?? 1024;
  const files = spec.files ?? [
    { name: 'model.json', data: bytes(3000, 7) },
    { name: 'weights/group1.bin', data: bytes(10_000, 11) },
  ];
  const body: Omit<ReleaseManifest, 'keyId'> = {
    format: MANIFEST_FORMAT,
    channel: spec.channel ?? 'stable',
    model: spec.model ?? 'student',
    version: spec.version ?? 1,
    serial: spec.serial ?? spec.version ?? 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    files: files.map((f) => ({
      name: f.name,
      size: f.data.length,
      sha256: createHash('sha256').update(f.data).digest('hex'),
      chunkSize,
      chunks: chunkCount(f.data.length, chunkSize),
    })),
    rollout: { percent: spec.percent ?? 100, salt: spec.salt ?? 'salt1' },
    minAgentVersion: spec.minAgentVersion ?? '0.1.0',
    metrics: spec.metrics ?? { 'ndcg@10': 0.1 },
    rollback: spec.rollback ?? false,
    previousVersion: spec.previousVersion ?? null,
  };
  const manifest = signManifest(body, key);
  const chunks = new Map<string, Buffer>();
  files.forEach((f, file) => {
    let chunk = 0;
    for (const c of chunksOf(f.data, chunkSize)) {
      chunks.set(
        topics.chunk({ channel: manifest.channel, version: manifest.version, file, chunk: chunk++ }),
        Buffer.from(c),
      );
    }
  });
  return { manifest, chunks, files };
}

/** A device: a receiver with recorded events, a state that installs update, and waits on events. */
export function testDevice(
  transport: MessageTransport,
  keys: TrustedKeys,
  overrides: Partial<ReceiverContext> & { deviceId?: string } = {},
) {
  const events: ReceiverEvent[] = [];
  const installed: ReceivedRelease[] = [];
  const state: DeviceReleaseState = { installedVersion: null, lastSerial: null };
  const waiters: { match: (e: ReceiverEvent) => boolean; resolve: (e: ReceiverEvent) => void }[] = [];
  const installWaiters: { serial: number; resolve: () => void }[] = [];
  const receiver = new ReleaseReceiver({
    transport,
    topics: new TopicMap(),
    channel: 'stable',
    deviceId: overrides.deviceId ?? 'dev-a',
    agentVersion: '0.1.0',
    keys,
    state: () => state,
    onRelease: async (release) => {
      installed.push(release);
      state.installedVersion = release.manifest.version;
      state.lastSerial = release.manifest.serial;
      for (const w of [...installWaiters]) {
        if (w.serial === release.manifest.serial) {
          installWaiters.splice(installWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    chunkTimeoutMs: 200,
    maxAttempts: 3,
    ...overrides,
    onEvent: (e) => {
      events.push(e);
      overrides.onEvent?.(e);
      for (const w of [...waiters]) {
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
  });
  /** The next event matching (past events count too), or a rejection after timeoutMs. */
  const next = (match: (e: ReceiverEvent) => boolean, limitMs = 10_000): Promise<ReceiverEvent> => {
    const timeoutMs = scaled(limitMs);
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(entry), 1);
        reject(
          new Error(
            `no matching receiver event within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const entry = {
        match,
        resolve: (e: ReceiverEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      waiters.push(entry);
    });
  };
  /** The first event that ends handling of a manifest: complete, failed, rejected or skipped. */
  const outcome = (timeoutMs?: number) =>
    next((e) => ['complete', 'failed', 'rejected', 'skipped'].includes(e.type), timeoutMs);
  /**
   * The release with this serial handed to the host (onRelease ran): the receiver says `complete` before
   * it installs, so a test that reads the device's state waits for this, not for a while.
   */
  const installedSerial = (serial: number, limitMs = 10_000): Promise<void> => {
    if (installed.some((r) => r.manifest.serial === serial)) return Promise.resolve();
    const timeoutMs = scaled(limitMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        installWaiters.splice(installWaiters.indexOf(entry), 1);
        reject(new Error(`release serial ${serial} not installed within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = {
        serial,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      installWaiters.push(entry);
    });
  };
  return { receiver, events, installed, state, next, outcome, installedSerial };
}

/** A model package folder of given files, removed when the test ends. */
export async function packageDir(
  t: { teardown(fn: () => unknown): void },
  files: { name: string; data: Buffer }[],
  name = 'student',
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bookrec-pkg-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    await mkdir(dirname(join(dir, f.name)), { recursive: true });
    await writeFile(join(dir, f.name), f.data);
  }
  return dir;
}

export const randomPayload = (size: number) => randomBytes(size);
