import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventKind } from '../../common/model/encoding.js';
import type { TopicMap } from '../../common/protocol/topics.js';
import type { Transport } from '../../common/protocol/transport.js';

/**
 * Every signal the soak writes, so that each can be looked for in its device's history afterwards.
 * A signal's identity is its `at` time: T0 + its id in milliseconds (T0 is a month before the run, so
 * every `at` is valid and in the past), which the history stores exactly. Book and kind are checked too.
 *
 * What "written" means, per way in:
 * - file: the line was appended to the device's signals JSONL file and fdatasync'd (a player app's
 *   write). The agent must end up with every one of these in its history: none may be lost.
 * - mqtt: the broker acknowledged the QoS 1 PUBLISH (PUBACK) to the readers' client. The agent keeps a
 *   persistent session (clean: false), so the broker queues its signals while it is away; but a broker
 *   killed with -9 loses what it acknowledged and had not yet saved or forwarded. So a signal
 *   acknowledged while its device's link was down (or just going down or coming back) is "excused",
 *   counted and shown. One acknowledged while the device was connected and subscribed, with no fault
 *   near, must be in its history, like a file line. (The kill soak, killSoak.ts, excuses nothing: it
 *   does not kill the broker.)
 *
 * Memory: one small record per signal written, bounded by the writer's rate times the soak's length.
 */
export type Via = 'file' | 'mqtt';

export interface WrittenSignal {
  id: number;
  device: string;
  via: Via;
  bookId: number;
  kind: EventKind;
  sentAt: number;
  /** When it counted as written (PUBACK, or fdatasync returned); undefined: never written. */
  writtenAt: number | undefined;
}

export interface LedgerOptions {
  topics: TopicMap;
  /** The readers' MQTT client. */
  transport: Transport;
  /** Each device's signals file (the agent follows it with --signals-file). */
  fileOf: (device: string) => string;
  books: readonly number[];
  kinds: readonly EventKind[];
  /** MQTT publishes not yet acknowledged beyond which a tick writes nothing (counted). */
  maxInFlight?: number;
}

export class SignalLedger {
  readonly t0 = Date.now() - 30 * 86_400_000;
  readonly written: WrittenSignal[] = [];
  /** Ticks skipped because too many MQTT publishes were waiting (the broker was down). */
  skipped = 0;
  /** MQTT publishes that failed or timed out (not written; may still arrive: then "extra"). */
  unacked = 0;
  /** Appends to a signals file that failed (the soak fails: it could not play its part). */
  fileErrors = 0;
  private readonly options: LedgerOptions;
  private readonly files = new Map<string, FileHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly fileQueue = new Map<string, Promise<void>>();
  private nextId = 1;

  constructor(options: LedgerOptions) {
    this.options = options;
  }

  /** Writes one signal to `device` by `via`; returns at once, the write completes in the background. */
  write(device: string, via: Via): void {
    if (this.inFlight.size >= (this.options.maxInFlight ?? 500)) {
      this.skipped++;
      return;
    }
    const id = this.nextId++;
    const { books, kinds } = this.options;
    const s: WrittenSignal = {
      id,
      device,
      via,
      bookId: books[id % books.length],
      kind: kinds[id % kinds.length],
      sentAt: Date.now(),
      writtenAt: undefined,
    };
    this.written.push(s);
    const line = JSON.stringify({ bookId: s.bookId, kind: s.kind, at: new Date(this.t0 + id).toISOString() });
    const job = (via === 'file' ? this.append(device, line) : this.publish(device, line)).then(
      () => {
        s.writtenAt = Date.now();
      },
      () => {
        // Not written either way; a file that cannot be appended to is the soak's own failure.
        if (via === 'mqtt') this.unacked++;
        else this.fileErrors++;
      },
    );
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Waits for every write started so far, then closes the files. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    for (const f of this.files.values()) await f.close();
    this.files.clear();
  }

  /** The id a history entry's `at` stands for, if it is one of ours. */
  idOf(at: number): number | undefined {
    const id = at - this.t0;
    return Number.isSafeInteger(id) && id >= 1 && id < this.nextId ? id : undefined;
  }

  private publish(device: string, line: string): Promise<void> {
    return this.options.transport.publish(this.options.topics.device(device, 'signals'), line, {
      retain: false,
      json: true,
    });
  }

  /** One append at a time per file, in id order, as one writer app would. */
  private append(device: string, line: string): Promise<void> {
    const next = (this.fileQueue.get(device) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        let f = this.files.get(device);
        if (!f) {
          f = await open(this.options.fileOf(device), 'a');
          this.files.set(device, f);
        }
        await f.write(`${line}\n`);
        await f.datasync();
      });
    this.fileQueue.set(device, next);
    return next;
  }
}

/** Where a device's signals file goes: its state directory (the agent reads it from there). */
export function signalsFile(stateDir: string): string {
  return join(stateDir, 'reader-signals.jsonl');
}
