import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir } from '../../common/atomicFile.js';
import { BookrecError } from '../../common/errors.js';
import { findColumn, headerColumns, readLines } from './csvLines.js';
import { GOODBOOKS_FILES } from './goodbooks.js';
import { ITEM_COLUMNS, USER_COLUMNS } from './interactionsCsv.js';

/**
 * Putting a data folder in place so that readers see the old folder or the new one, never a mix:
 * the files are prepared in a staging folder beside the target (same file system, so rename is atomic),
 * checked, then swapped in. A folder cannot be renamed over a non-empty one, so the swap is two renames
 * (target -> .old, staging -> target) with a roll-back if the second fails; a crash between them leaves
 * the old data in `.<name>.old-*` beside the target, never a half-written target.
 */

const isCsv = (name: string) => name.toLowerCase().endsWith('.csv');

/** A fresh staging folder beside `target`. */
export async function makeStagingDir(target: string): Promise<string> {
  const parent = dirname(resolve(target));
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, `.${basename(target)}.incoming-`));
  // mkdtemp makes it private (0700); once renamed it is an ordinary data folder that others may read.
  await chmod(dir, 0o755);
  return dir;
}

/**
 * Refuses to replace a folder that holds anything but CSV files: `--data ~` by mistake must not wipe a
 * home folder. Absent or empty targets are fine.
 */
export async function assertReplaceable(target: string): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(target);
    if (!info.isDirectory()) {
      throw new BookrecError('DATA_TARGET', `${target} exists and is not a folder; choose another --data`);
    }
    entries = await readdir(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const foreign = entries.filter((name) => !isCsv(name));
  if (foreign.length > 0) {
    throw new BookrecError(
      'DATA_TARGET',
      `${target} holds files that are not part of the data set (${foreign.slice(0, 3).join(', ')}); ` +
        'refusing to replace it: choose another --data folder or empty it',
    );
  }
}

/**
 * Checks that a folder looks like a goodbooks-10k copy before it goes live: ratings.csv exists and its
 * header names a user and an item column. (Row-level problems are the loader's to report and count.)
 */
export async function checkDataFolder(dir: string, origin: string): Promise<void> {
  const ratings = join(dir, GOODBOOKS_FILES.ratings);
  let header: string | undefined;
  try {
    for await (const { line } of readLines(ratings)) {
      header = line;
      break;
    }
  } catch (err) {
    if ((err as BookrecError).code === 'DATA_MISSING') {
      throw new BookrecError('DATA_INCOMPLETE', `${origin} has no ${GOODBOOKS_FILES.ratings}`);
    }
    throw err;
  }
  const columns = headerColumns(header ?? '');
  if (findColumn(columns, USER_COLUMNS) < 0 || findColumn(columns, ITEM_COLUMNS) < 0) {
    throw new BookrecError(
      'DATA_INCOMPLETE',
      `${origin}: ${GOODBOOKS_FILES.ratings}:1: header "${(header ?? '').slice(0, 80)}" is not a ratings header`,
    );
  }
}

/** Copies the CSV files of `fromDir` (not recursive) into `staging`, writable and fsynced. */
export async function copyCsvFiles(fromDir: string, staging: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(fromDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && isCsv(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BookrecError('DATA_MISSING', `${fromDir}: cannot read the folder (${code ?? String(err)})`);
  }
  for (const name of names) {
    const to = join(staging, name);
    await copyFile(join(fromDir, name), to);
    // A read-only source (like the shared copy) would otherwise give read-only files here.
    await chmod(to, 0o644);
  }
  await fsyncDir(staging);
  return names;
}

/** True when two paths name the same existing folder. */
export async function sameFolder(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

/** Swaps `staging` in as `target` (see the module comment); `staging` is gone afterwards. */
export async function placeDir(staging: string, target: string): Promise<void> {
  const parent = dirname(resolve(target));
  let old: string | undefined;
  try {
    await rename(staging, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    old = join(parent, `.${basename(target)}.old-${randomBytes(4).toString('hex')}`);
    await rename(target, old);
    try {
      await rename(staging, target);
    } catch (second) {
      await rename(old, target);
      throw second;
    }
  }
  await fsyncDir(parent);
  if (old) await rm(old, { recursive: true, force: true });
}
