import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { EVENT_KINDS, type EventKind } from '../common/model/encoding.js';
import type { Signal } from '../common/protocol/signals.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * The listener's history, kept on the device only: an append log (one JSON line per event, fsynced)
 * plus a snapshot written atomically on compaction. Every event carries a sequence number; the snapshot
 * records the last one it holds, so a crash between writing the snapshot and emptying the log replays
 * nothing twice. A torn last line (power cut mid-write) is ignored and cut off on open, so the next
 * append starts on a clean line. Memory and disk are bounded: at most maxEvents events (oldest dropped),
 * and the log is compacted every compactEvery lines.
 *
 * An event identical to one held (same book, kind and time to the millisecond) is the same event seen
 * twice: the broker sends a QoS 1 signal again when the device stopped before acknowledging it, which it
 * does only after storing it (agent/signals/mqttSignals.ts). has() finds such repeats among everything
 * held, across restarts, in a set as bounded as the history.
 */

export interface HistoryEntry extends Signal {
  seq: number;
}

export interface HistoryContext {
  stateDir: string;
  log: Logger;
  maxEvents: number;
  compactEvery: number;
  /**
   * Read what is on disk and change nothing (no torn tail cut, no unreadable snapshot moved aside, no
   * appends): for another process looking at a running agent's history (the chaos soak).
   */
  readOnly?: boolean;
}

export interface HistoryCounters {
  stored: number;
  /** Log lines that did not parse (not counting a torn last line). */
  badLines: number;
  tornLines: number;
  dropped: number;
}

const SNAPSHOT = 'history.json';
const LOG = 'history.log';
const SNAPSHOT_FORMAT = 1;

type Row = [seq: number, bookId: number, kind: EventKind, at: number];

export class HistoryStore {
  private readonly ctx: HistoryContext;
  private events: HistoryEntry[] = [];
  /** eventKey of every held event: repeats are found without a scan. */
  private readonly keys = new Set<string>();
  private seq = 0;
  private handle: FileHandle | undefined;
  private logLines = 0;
  /** Lines appended in memory and not yet on disk; bounded by maxEvents. */
  private pending: { seq: number; line: string }[] = [];
  /** The last sequence number on disk (in the log or the snapshot). */
  private writtenSeq = 0;
  private flushing: Promise<void> | undefined;
  readonly counters: HistoryCounters = { stored: 0, badLines: 0, tornLines: 0, dropped: 0 };

  constructor(ctx: HistoryContext) {
    this.ctx = ctx;
  }

  private path(name: string): string {
    return join(this.ctx.stateDir, name);
  }

  async start(): Promise<void> {
    const snapSeq = await this.readSnapshot();
    const valid = await this.replayLog(snapSeq);
    if (this.ctx.readOnly) {
      this.trim();
      return;
    }
    this.handle = await open(this.path(LOG), 'a+', STATE_FILE_MODE);
    // Cut a torn tail so the next line is not glued onto it.
    const { size } = await this.handle.stat();
    if (size !== valid) {
      await this.handle.truncate(valid);
      await this.handle.sync();
    }
    this.trim();
    this.ctx.log.info('history loaded', { events: this.events.length, torn: this.counters.tornLines });
  }

  async stop(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }

  /** A copy of the events, oldest first. */
  entries(): readonly HistoryEntry[] {
    return this.events;
  }

  get size(): number {
    return this.events.length;
  }

  /** Whether an identical event (book, kind, time) is held already. */
  has(signal: Signal): boolean {
    return this.keys.has(eventKey(signal));
  }

  /** Records an event now (in memory) and on disk (awaitable). */
  append(signal: Signal): Promise<void> {
    const entry: HistoryEntry = { ...signal, seq: ++this.seq };
    this.events.push(entry);
    this.keys.add(eventKey(entry));
    this.counters.stored++;
    this.trim();
    if (this.pending.length >= this.ctx.maxEvents) {
      // Disk slower than the events (a flood on the signals topic): the oldest unwritten line goes.
      this.pending.shift();
      this.counters.dropped++;
    }
    const row: Row = [entry.seq, entry.bookId, entry.kind, entry.at];
    this.pending.push({ seq: entry.seq, line: `${JSON.stringify(row)}\n` });
    return this.flush();
  }

  /** Writes pending lines; one write + fsync at a time, later appends ride on the next. */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.writePending().finally(() => {
        this.flushing = undefined;
      });
      return this.flushing;
    }
    // A flush is running: chain one more so lines added meanwhile are written too.
    return this.flushing.then(() => (this.pending.length > 0 ? this.flush() : undefined));
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0 && this.handle) {
      const lines = this.pending;
      this.pending = [];
      await this.handle.write(lines.map((l) => l.line).join(''));
      await this.handle.datasync();
      this.writtenSeq = lines[lines.length - 1].seq;
      this.logLines += lines.length;
      if (this.logLines >= this.ctx.compactEvery) await this.compact();
    }
  }

  /** Snapshot of everything in memory (atomic), then the log emptied. */
  private async compact(): Promise<void> {
    // Events appended while this runs are not in the log yet: they stay out of the snapshot too.
    const seq = this.writtenSeq;
    const rows = this.events.filter((e) => e.seq <= seq).map((e): Row => [e.seq, e.bookId, e.kind, e.at]);
    await writeFileAtomic(
      this.path(SNAPSHOT),
      JSON.stringify({ format: SNAPSHOT_FORMAT, seq, events: rows }),
      STATE_FILE_MODE,
    );
    await this.handle!.truncate(0);
    await this.handle!.sync();
    this.logLines = 0;
    this.ctx.log.debug('history compacted', { events: rows.length });
  }

  private trim(): void {
    const over = this.events.length - this.ctx.maxEvents;
    if (over <= 0) return;
    for (const e of this.events.splice(0, over)) this.keys.delete(eventKey(e));
  }

  private hold(e: HistoryEntry): void {
    this.events.push(e);
    this.keys.add(eventKey(e));
  }

  /** Loads the snapshot; returns its sequence number (0 without one). */
  private async readSnapshot(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path(SNAPSHOT), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw new BookrecError('HISTORY_IO', `${this.path(SNAPSHOT)}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      const snap = JSON.parse(text) as { format: number; seq: number; events: unknown[] };
      if (snap.format !== SNAPSHOT_FORMAT || !Number.isSafeInteger(snap.seq) || !Array.isArray(snap.events)) {
        throw new Error('not a history snapshot');
      }
      for (const row of snap.events) {
        const e = toEntry(row);
        if (e) this.hold(e);
        else this.counters.badLines++;
      }
      this.seq = snap.seq;
      this.writtenSeq = snap.seq;
      return snap.seq;
    } catch (err) {
      if (this.ctx.readOnly) {
        throw new BookrecError('HISTORY_IO', `${this.path(SNAPSHOT)}: ${errorMessage(err)}`, { cause: err });
      }
      // Atomic writes make this unexpected; keep the file for a person to look at and start afresh
      // rather than refuse to run.
      const aside = `${this.path(SNAPSHOT)}.corrupt-${Date.now()}`;
      await rename(this.path(SNAPSHOT), aside);
      await fsyncDir(this.ctx.stateDir);
      this.ctx.log.error('history snapshot unreadable: moved aside', {
        file: aside,
        error: errorMessage(err),
      });
      this.events = [];
      this.keys.clear();
      return 0;
    }
  }

  /** Replays log lines newer than the snapshot; returns the byte length of the complete lines. */
  private async replayLog(after: number): Promise<number> {
    let data: Buffer;
    try {
      data = await readFile(this.path(LOG));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const end = data.lastIndexOf(0x0a) + 1;
    if (end < data.length) this.counters.tornLines++;
    const lines = data.subarray(0, end).toString('utf8').split('\n');
    lines.pop();
    for (const line of lines) {
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        row = undefined;
      }
      const e = toEntry(row);
      if (!e) {
        this.counters.badLines++;
        continue;
      }
      this.logLines++;
      if (e.seq <= after) continue;
      this.hold(e);
      this.seq = Math.max(this.seq, e.seq);
    }
    this.writtenSeq = this.seq;
    return end;
  }
}

function eventKey(e: Signal): string {
  return `${e.bookId}/${e.kind}/${e.at}`;
}

function toEntry(row: unknown): HistoryEntry | undefined {
  if (!Array.isArray(row) || row.length !== 4) return undefined;
  const [seq, bookId, kind, at] = row as unknown[];
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(bookId) || typeof at !== 'number') return undefined;
  if (!(EVENT_KINDS as readonly unknown[]).includes(kind)) return undefined;
  return { seq: seq as number, bookId: bookId as number, kind: kind as EventKind, at };
}
