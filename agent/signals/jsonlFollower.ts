import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

/**
 * Follows a JSONL file like `tail -F`: new complete lines are handed over in order; a rotation (the
 * path now names another file: logrotate's rename + create) is noticed, the old file is read to its end
 * and the new one from its start; a truncation (copytruncate) starts over at 0; a missing file is waited
 * for. Polling, not inotify: it works on every file system and sees renames reliably, and the events are
 * human-paced. A line longer than maxLineBytes is dropped (and counted) without ever being held whole,
 * so memory stays bounded whatever the writer does. The position (device, inode, offset) is saved in
 * the state dir, so a restart neither skips nor repeats lines.
 */

export interface FollowerContext {
  file: string;
  /** Where the read position is kept (atomic writes). */
  positionFile: string;
  pollMs: number;
  maxLineBytes: number;
  log: Logger;
  /** Called once per complete line, awaited before the next. */
  onLine: (line: string) => Promise<void> | void;
}

export interface FollowerCounters {
  lines: number;
  tooLong: number;
  rotations: number;
  truncations: number;
}

interface Position {
  dev: number;
  ino: number;
  offset: number;
}

const READ_BYTES = 64 * 1024;

export class JsonlFollower {
  private readonly ctx: FollowerContext;
  private handle: FileHandle | undefined;
  private at: Position | undefined;
  /** The saved position, used once: for the first open after start. */
  private resumeFrom: Position | undefined;
  private saved: Position | undefined;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private discarding = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private tick: Promise<void> = Promise.resolve();
  readonly counters: FollowerCounters = { lines: 0, tooLong: 0, rotations: 0, truncations: 0 };

  constructor(ctx: FollowerContext) {
    this.ctx = ctx;
  }

  async start(): Promise<void> {
    this.running = true;
    this.resumeFrom = await this.readPosition();
    this.saved = this.resumeFrom;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
    await this.handle?.close();
    this.handle = undefined;
  }

  /** Runs one poll now (tests, and a trigger that wants the freshest history). */
  poll(): Promise<void> {
    this.tick = this.tick
      .then(() => this.pollOnce())
      .catch((err: unknown) => {
        this.ctx.log.warn('signal file poll failed', { file: this.ctx.file, error: errorMessage(err) });
      });
    return this.tick;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.poll().then(() => this.schedule(this.ctx.pollMs));
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    let now: { dev: number; ino: number; size: number } | undefined;
    try {
      now = await stat(this.ctx.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.handle && this.at && (!now || now.ino !== this.at.ino || now.dev !== this.at.dev)) {
      // Rotated or removed: whatever the writer added to the old file before it moved still counts.
      await this.drain();
      await this.endOfFile();
      await this.handle.close();
      this.handle = undefined;
      this.at = undefined;
      this.counters.rotations++;
      this.ctx.log.info('signal file rotated', { file: this.ctx.file });
    }
    if (!now) return;
    if (!this.handle) {
      this.handle = await open(this.ctx.file, 'r');
      const s = await this.handle.stat();
      const r = this.resumeFrom;
      // Only the first open may resume: a file created later can reuse a freed inode number.
      this.resumeFrom = undefined;
      const resume = r !== undefined && r.dev === s.dev && r.ino === s.ino && r.offset <= s.size;
      this.at = { dev: s.dev, ino: s.ino, offset: resume ? r.offset : 0 };
      this.resetLine();
    } else if (now.size < this.at!.offset) {
      this.counters.truncations++;
      this.ctx.log.info('signal file truncated: reading from the start', { file: this.ctx.file });
      this.at!.offset = 0;
      this.resetLine();
    }
    await this.drain();
    await this.savePosition();
  }

  /** Reads from the current offset to the end of the open file. */
  private async drain(): Promise<void> {
    const buf = Buffer.alloc(READ_BYTES);
    for (;;) {
      const { bytesRead } = await this.handle!.read(buf, 0, READ_BYTES, this.at!.offset);
      if (bytesRead === 0) return;
      this.at!.offset += bytesRead;
      await this.feed(buf.subarray(0, bytesRead));
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, nl < 0 ? chunk.length : nl);
      if (this.discarding) {
        if (nl >= 0) {
          this.discarding = false;
          this.resetLine();
        }
      } else if (this.partialBytes + piece.length > this.ctx.maxLineBytes) {
        this.counters.tooLong++;
        this.ctx.log.warn('signal line too long: dropped', {
          file: this.ctx.file,
          limit: this.ctx.maxLineBytes,
        });
        this.resetLine();
        this.discarding = nl < 0;
      } else {
        this.partial.push(Buffer.from(piece));
        this.partialBytes += piece.length;
        if (nl >= 0) await this.emitLine();
      }
      if (nl < 0) return;
      start = nl + 1;
    }
  }

  /** A last line without a newline in a file that was rotated away will never be finished: use it. */
  private async endOfFile(): Promise<void> {
    if (this.partialBytes > 0 && !this.discarding) await this.emitLine();
    this.resetLine();
  }

  private async emitLine(): Promise<void> {
    const line = Buffer.concat(this.partial).toString('utf8').trim();
    this.resetLine();
    if (line === '') return;
    this.counters.lines++;
    await this.ctx.onLine(line);
  }

  private resetLine(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.discarding = false;
  }

  private async readPosition(): Promise<Position | undefined> {
    try {
      const p = JSON.parse(await readFile(this.ctx.positionFile, 'utf8')) as Position;
      return [p.dev, p.ino, p.offset].every(Number.isSafeInteger) ? p : undefined;
    } catch {
      return undefined;
    }
  }

  /** Saves where the last complete line ended, when that moved. */
  private async savePosition(): Promise<void> {
    if (!this.at) return;
    const p: Position = { dev: this.at.dev, ino: this.at.ino, offset: this.at.offset - this.partialBytes };
    if (this.discarding) return;
    const s = this.saved;
    if (s && s.dev === p.dev && s.ino === p.ino && s.offset === p.offset) return;
    // Beside the history in the state dir: readable by the agent's user only.
    await writeFileAtomic(this.ctx.positionFile, JSON.stringify(p), 0o600);
    this.saved = p;
  }
}
