import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { BookrecError, errorMessage } from '../../common/errors.js';

/**
 * Extracts the CSV files of a downloaded archive into a folder, flat (by base name), with checks a
 * download from the internet needs:
 * - entry names that are absolute or climb out with `..` reject the whole archive (ARCHIVE_UNSAFE), even
 *   though flattening would keep them inside the folder: such an archive is not the one we expect;
 * - every entry's CRC-32 is checked (yauzl checks sizes but not CRCs), so corrupted bytes never reach
 *   the data folder (ARCHIVE_CORRUPT);
 * - a size cap per entry guards against a zip bomb.
 * When a name occurs at several depths (e.g. `ratings.csv` and `samples/ratings.csv`) the shallowest wins.
 */
export interface ExtractOptions {
  /** Which base names to extract; default: every `*.csv`. */
  wanted?: (name: string) => boolean;
  /** Largest uncompressed entry accepted. */
  maxEntryBytes?: number;
}

export interface ExtractedFile {
  name: string;
  path: string;
  bytes: number;
}

const DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 ** 3;
const isCsv = (name: string) => name.toLowerCase().endsWith('.csv');

/** The entry's path, normalised, or an ARCHIVE_UNSAFE error when it could escape the target folder. */
export function safeEntryName(archive: string, name: string): string {
  const unified = name.replace(/\\/g, '/');
  const parts = unified.split('/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified) || parts.includes('..') || name.includes('\0')) {
    throw new BookrecError(
      'ARCHIVE_UNSAFE',
      `${archive}: entry "${name}" points outside the archive; refused`,
    );
  }
  return posix.normalize(unified);
}

/** Entries worth extracting: CSVs, not macOS resource forks, shallowest per base name. */
function chooseEntries(
  archive: string,
  entries: Entry[],
  wanted: (name: string) => boolean,
): Map<string, Entry> {
  const chosen = new Map<string, { entry: Entry; depth: number }>();
  for (const entry of entries) {
    const path = safeEntryName(archive, entry.fileName);
    if (path.endsWith('/')) continue;
    const name = posix.basename(path);
    if (path.startsWith('__MACOSX/') || name.startsWith('._') || !wanted(name)) continue;
    const depth = path.split('/').length;
    const seen = chosen.get(name);
    if (!seen || depth < seen.depth) chosen.set(name, { entry, depth });
  }
  return new Map([...chosen].map(([name, { entry }]) => [name, entry]));
}

export async function extractCsvFiles(
  archive: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractedFile[]> {
  const maxBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const zip = await openZip(archive);
  try {
    const chosen = chooseEntries(archive, await listEntries(archive, zip), options.wanted ?? isCsv);
    const out: ExtractedFile[] = [];
    for (const [name, entry] of chosen) {
      if (entry.uncompressedSize > maxBytes) {
        throw new BookrecError(
          'ARCHIVE_UNSAFE',
          `${archive}: entry "${entry.fileName}" would unpack to ${entry.uncompressedSize} bytes (limit ${maxBytes})`,
        );
      }
      const path = join(destDir, basename(name));
      await extractEntry(archive, zip, entry, path);
      out.push({ name, path, bytes: entry.uncompressedSize });
    }
    return out;
  } finally {
    zip.close();
  }
}

function corrupt(archive: string, err: unknown): BookrecError {
  if (err instanceof BookrecError) return err;
  const message = errorMessage(err);
  // yauzl's own name checks (it runs them before ours) name the same danger.
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(message)) {
    return new BookrecError('ARCHIVE_UNSAFE', `${archive}: ${message}; refused`, { cause: err });
  }
  return new BookrecError('ARCHIVE_CORRUPT', `${archive}: not a valid zip archive (${message})`, {
    cause: err,
  });
}

function openZip(archive: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      archive,
      { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true },
      (err, zip) => (err || !zip ? reject(corrupt(archive, err)) : resolve(zip)),
    );
  });
}

/** The central directory: names and sizes only, so the choice of entries is made before unpacking. */
function listEntries(archive: string, zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (err) => reject(corrupt(archive, err)));
    zip.readEntry();
  });
}

async function extractEntry(archive: string, zip: ZipFile, entry: Entry, path: string): Promise<void> {
  const where = `${archive}: entry "${entry.fileName}"`;
  try {
    const source = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err) : resolve(stream))),
    );
    let crc = 0;
    await pipeline(
      source,
      async function* check(chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          crc = crc32(chunk, crc);
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    );
    if (crc >>> 0 !== entry.crc32 >>> 0) {
      throw new BookrecError('ARCHIVE_CORRUPT', `${where}: CRC-32 mismatch (the archive is damaged)`);
    }
    // Durable before the folder is renamed into place: a crash must not leave a placed, empty file.
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw new BookrecError('ARCHIVE_CORRUPT', `${where}: ${errorMessage(err)}`, { cause: err });
  }
}
