import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { type DownloadResult, discardPart, download } from './download.js';
import {
  assertReplaceable,
  checkDataFolder,
  copyCsvFiles,
  makeStagingDir,
  placeDir,
  sameFolder,
} from './placeData.js';
import { extractCsvFiles } from './unzip.js';

/**
 * `bookrec data fetch`: get a goodbooks-10k copy into the data folder, from the official release
 * archive or from a local folder. Whatever goes wrong, the data folder keeps what it had: everything is
 * prepared and checked in a staging folder first (see placeData.ts).
 */
export interface FetchContext {
  log: Logger;
  signal?: AbortSignal;
  /** Download progress in bytes; total undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Called as soon as the archive has arrived, before it is checked: its sha256 is worth showing even then. */
  onDownloaded?: (result: DownloadResult) => void;
}

export interface FetchOptions {
  url: string;
  /** Expected sha256 (hex) of the archive; empty: not enforced, only reported. */
  sha256: string;
  timeoutMs: number;
  /** The data folder to fill. */
  target: string;
  retries?: number;
}

export interface FetchResult {
  download: DownloadResult;
  files: string[];
}

/** The archive's `.part` sits beside the target, so a later run finds it and resumes. */
export const partFileFor = (target: string): string => `${resolve(target)}.zip.part`;

const SHA256 = /^[0-9a-f]{64}$/;

export async function fetchDataset(options: FetchOptions, ctx: FetchContext): Promise<FetchResult> {
  const expected = options.sha256.trim().toLowerCase();
  if (expected && !SHA256.test(expected)) {
    throw new BookrecError('USAGE', `--sha256 "${options.sha256}" is not 64 hex digits`);
  }
  await assertReplaceable(options.target);
  const partFile = partFileFor(options.target);
  const log = ctx.log.child('fetch');
  log.info('downloading', { url: options.url, to: partFile });
  const got = await download({
    url: options.url,
    partFile,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  log.info('downloaded', { bytes: got.bytes, sha256: got.sha256, resumedFrom: got.resumedFrom });
  ctx.onDownloaded?.(got);
  if (expected && got.sha256 !== expected) {
    // Resuming into these bytes would only reproduce them: start the next run from scratch.
    await discardPart(partFile);
    throw new BookrecError(
      'CHECKSUM_MISMATCH',
      `${options.url}: sha256 ${got.sha256} differs from the expected ${expected}; download discarded, data folder unchanged`,
    );
  }

  const staging = await makeStagingDir(options.target);
  try {
    const files = await extractCsvFiles(partFile, staging);
    await checkDataFolder(staging, `archive ${options.url}`);
    await placeDir(staging, options.target);
    await discardPart(partFile);
    log.info('placed', { target: options.target, files: files.map((f) => f.name) });
    return { download: got, files: files.map((f) => f.name) };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // A damaged or unexpected archive would be resumed as is next time: drop it.
    const code = (err as BookrecError).code;
    if (code === 'ARCHIVE_CORRUPT' || code === 'ARCHIVE_UNSAFE' || code === 'DATA_INCOMPLETE') {
      await discardPart(partFile);
    }
    throw err;
  }
}

/** `--from DIR`: a local goodbooks-10k copy, imported the same careful way. */
export async function importDataset(fromDir: string, target: string, ctx: FetchContext): Promise<string[]> {
  if (await sameFolder(fromDir, target)) {
    throw new BookrecError('USAGE', `--from ${fromDir} is the data folder itself; nothing to import`);
  }
  await checkDataFolder(fromDir, fromDir);
  await assertReplaceable(target);
  const staging = await makeStagingDir(target);
  try {
    const files = await copyCsvFiles(fromDir, staging);
    await placeDir(staging, target);
    ctx.log.child('fetch').info('imported', { from: fromDir, target, files });
    return files;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
