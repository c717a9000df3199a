import type { Logger } from '../../common/log.js';
import { parseSignalText, type Signal } from '../../common/protocol/signals.js';
import type { HistoryStore } from '../history.js';

/**
 * Where every signal source ends: parse, check the book against the installed catalogue, store.
 * Malformed events and unknown books are counted and logged (rate-limited: a broken writer must not
 * flood the journal), never thrown: a bad line from a player app must not stop the service.
 */
export interface IntakeContext {
  history: HistoryStore;
  log: Logger;
  /** Whether the installed catalogue has the book; undefined without a model (then all are kept). */
  knows: () => ((bookId: number) => boolean) | undefined;
  /** Told of every stored signal (quality counters match follow-ups to recommendations). */
  onAccepted?: (signal: Signal) => void;
  now?: () => number;
}

export interface IntakeCounters {
  accepted: number;
  malformed: number;
  unknownBook: number;
  /** Events the history holds already (a QoS 1 signal sent again after a restart). */
  duplicate: number;
}

/** At most this many warnings per source per minute. */
const WARNINGS_PER_MINUTE = 10;

export class SignalIntake {
  private readonly ctx: IntakeContext;
  readonly counters: IntakeCounters = { accepted: 0, malformed: 0, unknownBook: 0, duplicate: 0 };
  private warnWindow = 0;
  private warnings = 0;

  constructor(ctx: IntakeContext) {
    this.ctx = ctx;
  }

  /** One JSONL line or MQTT payload from `source`. */
  async text(source: string, text: string): Promise<void> {
    const now = (this.ctx.now ?? Date.now)();
    const parsed = parseSignalText(text, now);
    if (!parsed.ok) {
      this.counters.malformed++;
      this.warn('malformed signal ignored', { source, reason: parsed.reason, sample: text.slice(0, 80) });
      return;
    }
    await this.signal(source, parsed.signal);
  }

  async signal(source: string, signal: Signal): Promise<void> {
    const knows = this.ctx.knows();
    if (knows && !knows(signal.bookId)) {
      this.counters.unknownBook++;
      this.warn('signal for a book not in the catalogue ignored', { source, bookId: signal.bookId });
      return;
    }
    if (this.ctx.history.has(signal)) {
      this.counters.duplicate++;
      // The first copy may still be on its way to disk: the repeat is acknowledged once it is there.
      await this.ctx.history.flush();
      return;
    }
    this.counters.accepted++;
    await this.ctx.history.append(signal);
    this.ctx.onAccepted?.(signal);
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    const minute = Math.floor((this.ctx.now ?? Date.now)() / 60_000);
    if (minute !== this.warnWindow) {
      this.warnWindow = minute;
      this.warnings = 0;
    }
    if (++this.warnings <= WARNINGS_PER_MINUTE)
      this.ctx.log.warn(msg, { ...fields, counters: { ...this.counters } });
  }
}
