import { createHash, type Hash } from 'node:crypto';
import { BookrecError } from '../../common/errors.js';
import { chunkLength } from '../../common/protocol/chunker.js';
import type { ManifestFile } from '../../common/protocol/manifest.js';

/** Chunks that may arrive ahead of the next expected one and wait for it (bounds memory per file). */
export const MAX_AHEAD = 8;

/**
 * One file of a release checked as its chunks stream in: each chunk's length as the chunker cuts it
 * (common/protocol/chunker.ts), then the size and sha256 the signed manifest gives. Unlike the agent's
 * FileAssembly it hashes in chunk order and keeps no copy of the file: ten thousand simulated devices
 * holding a 1 MiB release each would need 10 GiB, and the bench measures delivery, not storage. The
 * broker sends one subscription's retained chunks in order; a few out of order are held, more fail.
 */
export class StreamingFileCheck {
  readonly file: ManifestFile;
  private readonly hash: Hash = createHash('sha256');
  private next = 0;
  private bytes = 0;
  private readonly ahead = new Map<number, Buffer>();

  constructor(file: ManifestFile) {
    this.file = file;
  }

  get complete(): boolean {
    return this.next === this.file.chunks;
  }

  /** Takes chunk n (duplicates ignored); throws CHUNK_INVALID or CHUNK_ORDER. */
  add(n: number, payload: Buffer): void {
    if (!Number.isInteger(n) || n < 0 || n >= this.file.chunks) {
      throw new BookrecError(
        'CHUNK_INVALID',
        `file ${this.file.name}: chunk ${n} does not exist (${this.file.chunks} chunks)`,
      );
    }
    if (n < this.next || this.ahead.has(n)) return;
    const expected = chunkLength(this.file, n);
    if (payload.length !== expected) {
      throw new BookrecError(
        'CHUNK_INVALID',
        `file ${this.file.name}: chunk ${n} has ${payload.length} bytes, expected ${expected} (truncated or corrupt)`,
      );
    }
    if (n > this.next) {
      if (this.ahead.size >= MAX_AHEAD) {
        throw new BookrecError(
          'CHUNK_ORDER',
          `file ${this.file.name}: chunk ${n} arrived while ${this.next} is still missing and ${MAX_AHEAD} are waiting`,
        );
      }
      // A copy: the parser's buffer may be reused once this returns.
      this.ahead.set(n, Buffer.from(payload));
      return;
    }
    this.take(payload);
    for (let held = this.ahead.get(this.next); held; held = this.ahead.get(this.next)) {
      this.ahead.delete(this.next);
      this.take(held);
    }
  }

  /** Throws FILE_INCOMPLETE, FILE_SIZE or FILE_SHA256 unless the file is exactly what was signed. */
  verify(): void {
    if (!this.complete) {
      throw new BookrecError(
        'FILE_INCOMPLETE',
        `file ${this.file.name}: ${this.next}/${this.file.chunks} chunks`,
      );
    }
    if (this.bytes !== this.file.size) {
      throw new BookrecError(
        'FILE_SIZE',
        `file ${this.file.name}: ${this.bytes} bytes, expected ${this.file.size}`,
      );
    }
    const actual = this.hash.digest('hex');
    if (actual !== this.file.sha256) {
      throw new BookrecError(
        'FILE_SHA256',
        `file ${this.file.name}: sha256 ${actual} does not match the manifest's ${this.file.sha256} (tampered or corrupt)`,
      );
    }
  }

  private take(payload: Buffer): void {
    this.hash.update(payload);
    this.bytes += payload.length;
    this.next++;
  }
}
