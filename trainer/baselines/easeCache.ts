import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { type Interactions, itemCount, rowOf } from '../data/interactions.js';

/**
 * On-disk cache of a fitted EASE weight matrix, because the solve takes a minute or more: a small JSON
 * header (format, key, shape, sha256 of the data) beside the raw float32 data, little-endian row-major.
 * The data file is written first and the header last, each atomically, so a header on disk always
 * describes a complete data file; any mismatch (missing, torn, edited, stale) is a miss and is refitted.
 */
const FORMAT = 'bookrec-ease-weights';
const VERSION = 1;

export interface EaseCacheHeader {
  format: typeof FORMAT;
  version: number;
  key: string;
  n: number;
  lambda: number;
  bytes: number;
  sha256: string;
  createdAt: string;
}

/**
 * The key is a hash of everything B depends on: the catalogue, every training user's reads and lambda.
 * Hashing the training rows themselves (a few MB) rather than the data file's size and mtime means a
 * re-downloaded identical file still hits, and a changed split or seed never does.
 */
export function easeCacheKey(x: Interactions, trainUsers: Int32Array, lambda: number): string {
  const hash = createHash('sha256');
  hash.update(`${FORMAT}/${VERSION}/lambda=${lambda}/items=${itemCount(x)}/users=${trainUsers.length}\n`);
  hash.update(bytesOf(x.itemIds));
  const length = new Int32Array(1);
  for (const u of trainUsers) {
    const row = rowOf(x, u);
    length[0] = row.length;
    hash.update(bytesOf(length));
    hash.update(bytesOf(row));
  }
  return hash.digest('hex');
}

export function easeCachePaths(dir: string, key: string): { header: string; data: string } {
  const stem = join(dir, `ease-${key.slice(0, 16)}`);
  return { header: `${stem}.json`, data: `${stem}.f32` };
}

/** The cached weights for `key`, or undefined (logged) when there is none or it does not check out. */
export async function readEaseCache(
  dir: string,
  key: string,
  n: number,
  log?: Logger,
): Promise<Float32Array | undefined> {
  const paths = easeCachePaths(dir, key);
  let header: Partial<EaseCacheHeader>;
  try {
    header = JSON.parse(await readFile(paths.header, 'utf8')) as Partial<EaseCacheHeader>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      log?.debug('no cached EASE weights', { file: paths.header });
    } else {
      log?.warn('unreadable EASE cache header, refitting', { file: paths.header, error: errorMessage(err) });
    }
    return undefined;
  }
  const bytes = n * n * 4;
  if (header.format !== FORMAT || header.version !== VERSION || header.key !== key || header.n !== n) {
    log?.warn('EASE cache header does not match, refitting', { file: paths.header });
    return undefined;
  }
  const weights = new Float32Array(n * n);
  try {
    await readExactly(paths.data, new Uint8Array(weights.buffer), bytes);
  } catch (err) {
    log?.warn('unreadable EASE cache data, refitting', { file: paths.data, error: errorMessage(err) });
    return undefined;
  }
  if (sha256(weights) !== header.sha256) {
    log?.warn('EASE cache checksum mismatch, refitting', { file: paths.data });
    return undefined;
  }
  log?.info('EASE weights read from cache', { file: paths.data });
  return weights;
}

export async function writeEaseCache(
  dir: string,
  key: string,
  n: number,
  lambda: number,
  weights: Float32Array,
  now: () => Date = () => new Date(),
): Promise<string> {
  const paths = easeCachePaths(dir, key);
  await writeFileAtomic(paths.data, bytesOf(weights));
  const header: EaseCacheHeader = {
    format: FORMAT,
    version: VERSION,
    key,
    n,
    lambda,
    bytes: weights.byteLength,
    sha256: sha256(weights),
    createdAt: now().toISOString(),
  };
  await writeFileAtomic(paths.header, `${JSON.stringify(header, null, 2)}\n`);
  return paths.data;
}

/** Reads a file that must be exactly `bytes` long into `target`, without an intermediate copy. */
async function readExactly(file: string, target: Uint8Array, bytes: number): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size !== bytes) throw new Error(`expected ${bytes} bytes, found ${size}`);
    let done = 0;
    while (done < bytes) {
      const { bytesRead } = await handle.read(target, done, Math.min(bytes - done, 1 << 30), done);
      if (bytesRead === 0) throw new Error(`file ended after ${done} of ${bytes} bytes`);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

function sha256(weights: Float32Array): string {
  return createHash('sha256').update(bytesOf(weights)).digest('hex');
}

function bytesOf(a: Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
