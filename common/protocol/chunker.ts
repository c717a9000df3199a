import { createHash } from 'node:crypto';
import { BookrecError } from '../errors.js';
import type { ManifestFile } from './manifest.js';

/**
 * How a file is cut into chunks (publisher) and put back together (receiver). A chunk is the raw bytes
 * [n * chunkSize, min(size, (n + 1) * chunkSize)) of the file, no header: every chunk but the last is
 * exactly chunkSize long.
 */

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** The length chunk n of a file must have. */
export function chunkLength(file: Pick<ManifestFile, 'size' | 'chunkSize'>, n: number): number {
  return Math.min(file.chunkSize, file.size - n * file.chunkSize);
}

/** The chunks of a buffer, as views (no copies). */
export function* chunksOf(data: Uint8Array, chunkSize: number): Generator<Uint8Array> {
  for (let start = 0; start < data.length; start += chunkSize) yield data.subarray(start, start + chunkSize);
}

export type ChunkResult = 'added' | 'duplicate';

/**
 * One file being received: a buffer of exactly the manifest's size, filled chunk by chunk in any order.
 * Duplicates are ignored; a chunk of the wrong length is refused before it is copied.
 */
export class FileAssembly {
  readonly file: ManifestFile;
  private readonly data: Buffer;
  private readonly have: Uint8Array;
  private count = 0;

  /** `allocate` is injectable so tests can prove no memory is asked for before the limits are checked. */
  constructor(file: ManifestFile, allocate: (size: number) => Buffer) {
    this.file = file;
    this.data = allocate(file.size);
    this.have = new Uint8Array(file.chunks);
  }

  get receivedChunks(): number {
    return this.count;
  }

  get complete(): boolean {
    return this.count === this.file.chunks;
  }

  has(n: number): boolean {
    return this.have[n] === 1;
  }

  add(n: number, payload: Uint8Array): ChunkResult {
    if (!Number.isInteger(n) || n < 0 || n >= this.file.chunks) {
      throw new BookrecError(
        'CHUNK_INVALID',
        `file ${this.file.name}: chunk ${n} does not exist (${this.file.chunks} chunks)`,
      );
    }
    if (this.have[n] === 1) return 'duplicate';
    const expected = chunkLength(this.file, n);
    if (payload.length !== expected) {
      throw new BookrecError(
        'CHUNK_INVALID',
        `file ${this.file.name}: chunk ${n} has ${payload.length} bytes, expected ${expected} (truncated or corrupt)`,
      );
    }
    this.data.set(payload, n * this.file.chunkSize);
    this.have[n] = 1;
    this.count++;
    return 'added';
  }

  /** Indexes of the chunks still missing, at most `limit` of them. */
  missing(limit: number): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.file.chunks && out.length < limit; n++) if (this.have[n] === 0) out.push(n);
    return out;
  }

  /** The complete file after its size and sha256 match the manifest; throws FILE_SHA256 otherwise. */
  verified(): Buffer {
    if (!this.complete) {
      throw new BookrecError(
        'FILE_INCOMPLETE',
        `file ${this.file.name}: ${this.count}/${this.file.chunks} chunks`,
      );
    }
    if (this.data.length !== this.file.size) {
      throw new BookrecError(
        'FILE_SIZE',
        `file ${this.file.name}: ${this.data.length} bytes, expected ${this.file.size}`,
      );
    }
    const actual = createHash('sha256').update(this.data).digest('hex');
    if (actual !== this.file.sha256) {
      throw new BookrecError(
        'FILE_SHA256',
        `file ${this.file.name}: sha256 ${actual} does not match the manifest's ${this.file.sha256} (tampered or corrupt)`,
      );
    }
    return this.data;
  }
}
