import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a file so that readers see the old content or the new, never a torn one, also across a
 * crash: write a temp file beside it, fsync, rename over, fsync the folder.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  try {
    const handle = await open(tmp, 'w', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

const TEMP_SUFFIX = '.tmp';
/** The temp name writeFileAtomic uses: <file>.<pid>.<8 hex>.tmp. */
const TEMP_NAME = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temp files writeFileAtomic left in `dir` when its process was killed between creating
 * one and renaming it over its target (SIGKILL, power cut: the catch that removes it never ran). Call
 * it at start, before anything in this folder is written again; without it every such kill leaves a
 * full copy of a file behind for good. Returns the names removed.
 */
export async function removeAtomicLeftovers(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const leftovers = names.filter((n) => TEMP_NAME.test(n));
  for (const n of leftovers) await rm(join(dir, n), { force: true });
  if (leftovers.length > 0) await fsyncDir(dir);
  return leftovers;
}

/** Makes a rename inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
