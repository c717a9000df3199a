import { createPublicKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { errorMessage } from '../common/errors.js';
import { DEFAULT_LIMITS } from '../common/protocol/manifest.js';
import { keyIdOf, rawPublicKey } from '../common/protocol/signing.js';
import { loadSigningKey, publicKeyFile } from '../deploy/keys.js';
import { packageInfo, readPackage } from '../deploy/packageFiles.js';

/**
 * What the demo keeps between runs, and when it may reuse it: the trained package (if it was trained
 * from the same data with the same seed and every file still matches its recorded sha256) and the
 * signing key pair (if the private key loads and the .pub beside it is its public half). Anything
 * else is made again, and the demo says which.
 */

/** Written beside the package after a successful training: what it was trained from. */
export interface TrainStamp {
  dataDir: string;
  ratingsBytes: number;
  ratingsMtimeMs: number;
  seed: number;
  profile: 'quick';
}

export const STAMP_FILE = 'demo-stamp.json';

export async function trainStamp(dataDir: string, seed: number): Promise<TrainStamp> {
  const s = await stat(join(dataDir, 'ratings.csv'));
  return { dataDir, ratingsBytes: s.size, ratingsMtimeMs: Math.round(s.mtimeMs), seed, profile: 'quick' };
}

export async function writeStamp(trainDir: string, stamp: TrainStamp): Promise<void> {
  await writeFileAtomic(join(trainDir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}

export type Reuse = { ok: true; detail: string } | { ok: false; why: string };

/**
 * Whether the package under trainDir/package can be used as it is. Checks what publish would check
 * (every file listed in bookrec-package.json, with its size and sha256) and that it was trained from
 * this data and seed. The model itself is loaded and self-tested by every agent on install.
 */
export async function reusablePackage(trainDir: string, want: TrainStamp): Promise<Reuse> {
  let stamp: TrainStamp;
  try {
    stamp = JSON.parse(await readFile(join(trainDir, STAMP_FILE), 'utf8')) as TrainStamp;
  } catch {
    return { ok: false, why: 'no package from an earlier run' };
  }
  const changed = (Object.keys(want) as (keyof TrainStamp)[]).filter((k) => stamp[k] !== want[k]);
  if (changed.length > 0)
    return { ok: false, why: `the package was trained with other ${changed.join(', ')}` };
  try {
    const files = await readPackage(join(trainDir, 'package'), 64 * 1024, DEFAULT_LIMITS);
    const info = packageInfo(files);
    if (!files.some((f) => f.entry.name === 'bookrec-package.json'))
      return { ok: false, why: 'the package has no bookrec-package.json' };
    const bytes = files.reduce((n, f) => n + f.entry.size, 0);
    return {
      ok: true,
      detail: `${info.modelId ?? 'student'}, ${files.length} files, ${bytes} bytes, sha256 checked`,
    };
  } catch (err) {
    return { ok: false, why: `the package from an earlier run is damaged (${errorMessage(err)})` };
  }
}

/** The public key (base64, as devices are configured) of a reusable key pair, or why it is not. */
export async function reusableKeys(
  keyFile: string,
): Promise<{ ok: true; publicKey: string; keyId: string } | { ok: false; why: string }> {
  let pub: string;
  try {
    pub = (await readFile(publicKeyFile(keyFile), 'utf8')).trim();
  } catch {
    return { ok: false, why: 'no key pair from an earlier run' };
  }
  try {
    const raw = rawPublicKey(createPublicKey(await loadSigningKey(keyFile)));
    if (raw.toString('base64') !== pub)
      return { ok: false, why: `${publicKeyFile(keyFile)} is not the public half of ${keyFile}` };
    return { ok: true, publicKey: pub, keyId: keyIdOf(raw) };
  } catch (err) {
    return { ok: false, why: `the key pair from an earlier run does not load (${errorMessage(err)})` };
  }
}
