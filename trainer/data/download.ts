import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { BookrecError, errorMessage } from '../../common/errors.js';

/**
 * Downloads one URL into a `.part` file with node's own http/https (no extra dependency), following
 * redirects (GitHub release assets redirect to a storage host). An interrupted download keeps its
 * `.part`, and the next attempt asks for the rest with an HTTP Range request. A sidecar `.part.json`
 * remembers the URL and the server's validator (ETag or Last-Modified), sent as If-Range: if the file
 * changed on the server meanwhile, the server answers with the whole new file instead of a mismatched tail.
 *
 * Error codes: OFFLINE (no connection could be made or no answer came: DNS, refused, timeout),
 * DOWNLOAD_INTERRUPTED (the body stopped early; the `.part` is kept for a resume), DOWNLOAD_HTTP (a
 * status we cannot use), ABORTED (the caller's signal).
 */
export interface DownloadOptions {
  url: string;
  /** Where the bytes go; resumed when it exists and its sidecar names the same URL. */
  partFile: string;
  /** A connection, or an answer, silent for this long is given up. */
  timeoutMs: number;
  /** More attempts after an interruption, each resuming where the last stopped. */
  retries?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Called when the size is known (undefined when the server does not say) and on every chunk. */
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
  /** Bytes already in the `.part` that the server agreed to continue from, in the attempt that finished. */
  resumedFrom: number;
  /** Attempts that ended early before the one that finished. */
  interruptions: number;
}

interface PartMeta {
  url: string;
  validator?: string;
}

const RETRYABLE = 'DOWNLOAD_INTERRUPTED';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Failures to reach a server at all: the machine is offline, or the host is wrong or down. */
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
]);

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      const { resumedFrom } = await attemptDownload(options);
      const bytes = (await stat(options.partFile)).size;
      return {
        file: options.partFile,
        bytes,
        sha256: await sha256File(options.partFile),
        resumedFrom,
        interruptions: attempt,
      };
    } catch (err) {
      if (!(err instanceof BookrecError) || err.code !== RETRYABLE || attempt >= retries) throw err;
    }
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Deletes a `.part` file and its sidecar (after success, or when its content is known to be bad). */
export async function discardPart(partFile: string): Promise<void> {
  await rm(partFile, { force: true });
  await rm(metaFile(partFile), { force: true });
}

const metaFile = (partFile: string) => `${partFile}.json`;

async function readMeta(partFile: string): Promise<PartMeta | undefined> {
  try {
    return JSON.parse(await readFile(metaFile(partFile), 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** One request (plus its redirects) that appends to or rewrites the `.part`. */
async function attemptDownload(options: DownloadOptions): Promise<{ resumedFrom: number }> {
  const meta = await readMeta(options.partFile);
  let offset = meta?.url === options.url ? await sizeOf(options.partFile) : 0;
  if (offset === 0) await discardPart(options.partFile);

  const res = await get(options, offset, offset > 0 ? meta?.validator : undefined);
  let total: number | undefined;
  if (res.statusCode === 206) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== offset) {
      // A tail that does not start where our bytes end cannot be appended: start over, cleanly.
      res.resume();
      await discardPart(options.partFile);
      throw new BookrecError(RETRYABLE, `${options.url}: server sent an unexpected range; restarting`);
    }
    total = range.total;
  } else if (res.statusCode === 416 && offset > 0) {
    res.resume();
    // The .part may already hold the whole file (a run stopped after the last byte, before extraction).
    const range = parseContentRange(res.headers['content-range']);
    if (range?.total === offset) return { resumedFrom: offset };
    await discardPart(options.partFile);
    throw new BookrecError(RETRYABLE, `${options.url}: server refused the resume range; restarting`);
  } else if (res.statusCode === 200) {
    // No range support, or the file changed (If-Range): the answer is the whole file from byte 0.
    offset = 0;
    const length = Number(res.headers['content-length']);
    total = Number.isFinite(length) && length >= 0 ? length : undefined;
  } else {
    res.resume();
    throw new BookrecError(
      'DOWNLOAD_HTTP',
      `${options.url}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
    );
  }

  // The sidecar is written while the body already flows: bytes that arrive before a cut are kept only if
  // they are read, and a stale sidecar is harmless (a wrong If-Range only makes the server send it all).
  const metaWritten = writeFileAtomic(
    metaFile(options.partFile),
    JSON.stringify({ url: options.url, validator: pickValidator(res) }),
  );
  metaWritten.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  let received = offset;
  options.onProgress?.(received, total);
  const out = createWriteStream(options.partFile, { flags: offset > 0 ? 'a' : 'w' });
  try {
    await pipeline(
      res,
      async function* count(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          received += chunk.length;
          options.onProgress?.(received, total);
          yield chunk;
        }
      },
      out,
    );
  } catch (err) {
    await metaWritten.catch(() => {});
    if (options.signal?.aborted) throw aborted(options);
    // What is on disk, not what passed by: the next attempt resumes from the file's size.
    throw interrupted(options.url, await sizeOf(options.partFile), total, errorMessage(err));
  }
  await metaWritten;
  if (total !== undefined && received < total)
    throw interrupted(options.url, received, total, 'connection closed');
  return { resumedFrom: offset };
}

function interrupted(url: string, received: number, total: number | undefined, why: string): BookrecError {
  const of = total === undefined ? '' : ` of ${total}`;
  return new BookrecError(
    RETRYABLE,
    `${url}: download interrupted after ${received}${of} bytes (${why}); run the command again to resume`,
  );
}

function aborted(options: DownloadOptions): BookrecError {
  return new BookrecError('ABORTED', `${options.url}: download stopped; run again to resume`);
}

/** ETag when strong (a weak one may not be used in If-Range), else Last-Modified. */
function pickValidator(res: IncomingMessage): string | undefined {
  const etag = res.headers.etag;
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers['last-modified'];
}

/** "bytes 100-199/1000" -> {start: 100, total: 1000}; "bytes * /1000" (416) -> {start: NaN, total: 1000}. */
export function parseContentRange(header: string | undefined): { start: number; total?: number } | undefined {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  return {
    start: m[1] === undefined ? Number.NaN : Number(m[1]),
    total: m[2] === '*' ? undefined : Number(m[2]),
  };
}

/** GET with redirects; resolves with the final response, whose body the caller consumes. */
async function get(options: DownloadOptions, offset: number, validator: string | undefined) {
  let url = new URL(options.url);
  for (let hop = 0; ; hop++) {
    const res = await request(url, options, offset, validator);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return res;
    res.resume();
    if (hop >= (options.maxRedirects ?? 5)) {
      throw new BookrecError('DOWNLOAD_HTTP', `${options.url}: more than ${hop} redirects`);
    }
    url = new URL(location, url);
  }
}

function request(
  url: URL,
  options: DownloadOptions,
  offset: number,
  validator: string | undefined,
): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!client) {
    return Promise.reject(
      new BookrecError('USAGE', `${options.url}: only http and https URLs can be downloaded`),
    );
  }
  const headers: Record<string, string> = {
    'user-agent': 'edge-bookrec',
    // A compressed transfer would make byte offsets (Range) refer to a different encoding.
    'accept-encoding': 'identity',
  };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  if (offset > 0 && validator) headers['if-range'] = validator;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers, timeout: options.timeoutMs, signal: options.signal });
    let response: IncomingMessage | undefined;
    req.on('response', (res) => {
      response = res;
      resolve(res);
    });
    req.on('timeout', () => {
      const seconds = options.timeoutMs / 1000;
      // Before an answer the server is unreachable; after it, the body stalled: the reader sees why.
      if (response) response.destroy(new Error(`no data for ${seconds}s`));
      else req.destroy(new BookrecError('OFFLINE', `cannot reach ${url.host}: no answer within ${seconds}s`));
    });
    req.on('error', (err) => {
      if (response) return; // the response stream reports it to the reader
      if (options.signal?.aborted) return reject(aborted(options));
      if (err instanceof BookrecError) return reject(err);
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (UNREACHABLE.has(code)) {
        return reject(new BookrecError('OFFLINE', `cannot reach ${url.host} (${code})`, { cause: err }));
      }
      reject(new BookrecError('DOWNLOAD_HTTP', `${options.url}: ${errorMessage(err)}`, { cause: err }));
    });
  });
}
