import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAtomicLeftovers } from '../common/atomicFile.js';
import type { Logger } from '../common/log.js';
import { lockStateDir, type StateLock } from './stateLock.js';

/**
 * The state directory holds the listener's history and what is derived from it: only the agent's user
 * may read it, whatever the umask (systemd sets 0077 and StateDirectoryMode 0700; `bookrec agent` run by
 * hand, or an older version, may not have). Every writer in the agent creates folders 0700 and files
 * 0600; this makes the folder itself so and tightens anything already in it at start.
 */
export const STATE_DIR_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;

/**
 * Makes the folder (0700), takes its lock (stateLock.ts: one agent per state dir), tightens what is in
 * it, and removes the temp files of atomic writes a kill interrupted (history snapshot, signals
 * position, update reports...), logging them. The lock comes first: the temp files of a running agent
 * are not leftovers. Returns the lock and the names removed.
 */
export async function prepareStateDir(
  dir: string,
  log: Logger,
): Promise<{ lock: StateLock; leftovers: string[] }> {
  await mkdir(dir, { recursive: true, mode: STATE_DIR_MODE });
  const lock = await lockStateDir(dir);
  try {
    return { lock, leftovers: await tidy(dir, log) };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function tidy(dir: string, log: Logger): Promise<string[]> {
  const leftovers = await removeAtomicLeftovers(dir);
  if (leftovers.length > 0) {
    log.warn('removed files a killed write left behind', {
      files: leftovers.slice(0, 10),
      count: leftovers.length,
    });
  }
  await tighten(dir);
  return leftovers;
}

/** Folders 0700, files 0600, under `path` (symbolic links are left: their mode means nothing). */
async function tighten(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const mode = info.isDirectory() ? STATE_DIR_MODE : STATE_FILE_MODE;
  if ((info.mode & 0o777) !== mode) await chmod(path, mode);
  if (info.isDirectory()) for (const name of await readdir(path)) await tighten(join(path, name));
}
