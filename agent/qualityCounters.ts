import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { EventKind } from '../common/model/encoding.js';
import {
  COUNTERS_FORMAT,
  type DeviceCounters,
  type VersionCounters,
  validateCounters,
} from '../common/protocol/counters.js';
import type { Signal } from '../common/protocol/signals.js';
import type { TopicMap } from '../common/protocol/topics.js';
import { realTimers, type Timers, unrefTimer } from '../common/protocol/transport.js';
import type { Outbox } from './outbox.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * Online quality counters (format in common/protocol/counters.ts): per model version, how many answers
 * the speaker gave and how many were followed, within the window, by a liked / started / finished /
 * skipped signal for one of the recommended books. A follow-up is matched on the signal's own time
 * (`at`), so a replayed old history is not mistaken for one, and credited to the newest answer that
 * named the book. Only counts leave the device; the recommended book ids stay here, in the pending list,
 * until their window closes.
 *
 * Kinds: `progress` counts as started, `read` as finished; `abandoned` is no outcome of its own (the book
 * was started). State is saved atomically to quality.json, debounced (a crash loses at most the last
 * `saveDelayMs` of counts), and bounded: at most maxVersions versions (the least recently used is
 * dropped) and maxPending answers awaiting follow-ups (the oldest is dropped early).
 */
export interface QualityContext {
  stateDir: string;
  outbox: Outbox;
  topics: TopicMap;
  deviceId: string;
  log: Logger;
  windowMs: number;
  publishEveryMs: number;
  maxVersions: number;
  maxPending: number;
  saveDelayMs?: number;
  /** The first change after start is published this soon, not a whole publishEveryMs later. */
  firstPublishMs?: number;
  now?: () => number;
  /** The clock of the publish and save timers (tests drive a fake one). */
  timers?: Timers;
}

type Outcome = 'liked' | 'started' | 'finished' | 'skipped';

const OUTCOME_OF: Partial<Record<EventKind, Outcome>> = {
  liked: 'liked',
  started: 'started',
  progress: 'started',
  finished: 'finished',
  read: 'finished',
  skipped: 'skipped',
};
const BIT: Record<Outcome, number> = { liked: 1, started: 2, finished: 4, skipped: 8 };
const POSITIVE = BIT.liked | BIT.started | BIT.finished;

/** One answer awaiting follow-ups. */
interface Pending {
  channel: string;
  version: number;
  at: number;
  books: number[];
  /** Outcome bits already credited. */
  seen: number;
}

interface SavedState {
  format: 1;
  versions: (Omit<VersionCounters, 'open'> & { lastAt: number })[];
  pending: Pending[];
}

const FILE = 'quality.json';
const key = (channel: string, version: number) => `${channel}@${version}`;

export class QualityCounters {
  private readonly ctx: QualityContext;
  private versions = new Map<string, Omit<VersionCounters, 'open'> & { lastAt: number }>();
  private pending: Pending[] = [];
  private dirty = false;
  private unpublished = false;
  private saveTimer: unknown;
  private saving: Promise<void> | undefined;
  private publishTimer: unknown;
  private firstTimer: unknown;
  private readonly timers: Timers;
  /** Whether counters went out since start: until then a change is published soon (fleet view, gate). */
  private publishedOnce = false;
  /** Answers dropped from the pending list before their window closed (bound reached). */
  droppedPending = 0;

  constructor(ctx: QualityContext) {
    this.ctx = ctx;
    this.timers = ctx.timers ?? realTimers;
  }

  private now(): number {
    return this.ctx.now ? this.ctx.now() : this.timers.now();
  }

  /** Loads saved counts (a damaged file starts from zero, logged) and starts the publish schedule. */
  async start(): Promise<void> {
    await this.load();
    if (this.ctx.publishEveryMs > 0) this.publishEvery(this.ctx.publishEveryMs);
  }

  /** One publish per period, each timer set by the last (stop() clears the one waiting). */
  private publishEvery(ms: number): void {
    this.publishTimer = this.timers.setTimeout(() => {
      this.publishEvery(ms);
      void this.publish();
    }, ms);
    unrefTimer(this.publishTimer);
  }

  /** Saves, and publishes once more when something changed since the last publish. */
  async stop(): Promise<void> {
    this.timers.clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    this.timers.clearTimeout(this.firstTimer);
    this.firstTimer = undefined;
    await this.publish();
    await this.save();
  }

  /** An answer was given by this model version, naming these books. */
  recommended(release: { channel: string; version: number }, books: number[], at = this.now()): void {
    this.expire();
    const k = key(release.channel, release.version);
    let v = this.versions.get(k);
    if (!v) {
      v = {
        channel: release.channel,
        version: release.version,
        recommendations: 0,
        accepted: 0,
        liked: 0,
        started: 0,
        finished: 0,
        skipped: 0,
        lastAt: at,
      };
      this.versions.set(k, v);
      this.trimVersions();
    }
    v.recommendations++;
    v.lastAt = at;
    if (books.length > 0) {
      this.pending.push({
        channel: release.channel,
        version: release.version,
        at,
        books: [...books],
        seen: 0,
      });
      while (this.pending.length > this.ctx.maxPending) {
        this.pending.shift();
        this.droppedPending++;
      }
    }
    this.changed();
  }

  /** A signal the intake accepted: credits the newest answer that named its book within the window. */
  signal(signal: Signal): void {
    const outcome = OUTCOME_OF[signal.kind];
    if (!outcome) return;
    this.expire();
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i];
      if (signal.at < p.at || signal.at > p.at + this.ctx.windowMs || !p.books.includes(signal.bookId))
        continue;
      const v = this.versions.get(key(p.channel, p.version));
      if (v && (p.seen & BIT[outcome]) === 0) {
        v[outcome]++;
        if ((p.seen & POSITIVE) === 0 && (BIT[outcome] & POSITIVE) !== 0) v.accepted++;
        p.seen |= BIT[outcome];
        this.changed();
      }
      return;
    }
  }

  /** The payload: counts only, newest versions first. */
  snapshot(): DeviceCounters {
    this.expire();
    const open = new Map<string, number>();
    for (const p of this.pending)
      open.set(key(p.channel, p.version), (open.get(key(p.channel, p.version)) ?? 0) + 1);
    return {
      format: COUNTERS_FORMAT,
      deviceId: this.ctx.deviceId,
      windowSeconds: Math.max(1, Math.round(this.ctx.windowMs / 1000)),
      versions: [...this.versions.values()]
        .sort((a, b) => b.lastAt - a.lastAt)
        .map(({ lastAt: _l, ...v }) => ({ ...v, open: open.get(key(v.channel, v.version)) ?? 0 })),
      at: new Date(this.now()).toISOString(),
    };
  }

  /** Publishes the retained counters when they changed since the last publish (or when forced). */
  async publish(force = false): Promise<void> {
    if ((!this.unpublished && !force) || this.versions.size === 0) return;
    this.unpublished = false;
    this.publishedOnce = true;
    await this.ctx.outbox.send({
      topic: this.ctx.topics.device(this.ctx.deviceId, 'counters'),
      payload: JSON.stringify(this.snapshot()),
      options: { retain: true, json: true },
      key: 'counters',
    });
  }

  /** Writes quality.json now if anything changed; never throws (counts are not worth a crash). */
  async save(): Promise<void> {
    this.timers.clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    // A loop, not one await: two callers waking from the same write must not both skip the next one.
    while (this.saving) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    const state: SavedState = { format: 1, versions: [...this.versions.values()], pending: this.pending };
    this.saving = writeFileAtomic(join(this.ctx.stateDir, FILE), JSON.stringify(state), STATE_FILE_MODE)
      .catch((err: unknown) => {
        this.dirty = true;
        this.ctx.log.warn('saving quality counters failed', { error: errorMessage(err) });
      })
      .finally(() => {
        this.saving = undefined;
      });
    await this.saving;
  }

  private changed(): void {
    this.dirty = true;
    this.unpublished = true;
    if (!this.publishedOnce && !this.firstTimer && this.ctx.publishEveryMs > 0) {
      const delay = Math.min(this.ctx.firstPublishMs ?? 10_000, this.ctx.publishEveryMs);
      this.firstTimer = this.timers.setTimeout(() => void this.publish(), delay);
      unrefTimer(this.firstTimer);
    }
    if (!this.saveTimer) {
      this.saveTimer = this.timers.setTimeout(() => void this.save(), this.ctx.saveDelayMs ?? 1000);
      // stop() saves: a pending save must not keep a finished process alive.
      unrefTimer(this.saveTimer);
    }
  }

  private expire(): void {
    const cutoff = this.now() - this.ctx.windowMs;
    const before = this.pending.length;
    this.pending = this.pending.filter((p) => p.at >= cutoff && this.versions.has(key(p.channel, p.version)));
    if (this.pending.length !== before) this.dirty = true;
  }

  private trimVersions(): void {
    while (this.versions.size > this.ctx.maxVersions) {
      const oldest = [...this.versions.entries()].reduce((a, b) => (b[1].lastAt < a[1].lastAt ? b : a));
      this.versions.delete(oldest[0]);
    }
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.ctx.stateDir, FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.ctx.log.warn('quality counters unreadable: starting from zero', { error: errorMessage(err) });
      return;
    }
    const problem = this.restore(text);
    if (problem) this.ctx.log.warn('quality counters damaged: starting from zero', { reason: problem });
  }

  /** Restores a saved state, checked with the wire format's own rules; returns a reason when refused. */
  private restore(text: string): string | undefined {
    let state: SavedState;
    try {
      state = JSON.parse(text) as SavedState;
    } catch {
      return 'not valid JSON';
    }
    if (state?.format !== 1 || !Array.isArray(state.versions) || !Array.isArray(state.pending))
      return 'not a format 1 state';
    const lastAt = state.versions.map((v) => v?.lastAt);
    const check = validateCounters({
      format: COUNTERS_FORMAT,
      deviceId: this.ctx.deviceId,
      windowSeconds: 1,
      versions: state.versions.map((v) => {
        const { lastAt: _l, ...rest } = v ?? {};
        return { ...rest, open: 0 };
      }),
      at: new Date(0).toISOString(),
    });
    if (!check.ok) return check.reason;
    if (lastAt.some((t) => typeof t !== 'number' || !Number.isFinite(t))) return 'lastAt must be a number';
    const pendingOk = (p: Pending) =>
      p !== null &&
      typeof p === 'object' &&
      typeof p.channel === 'string' &&
      Number.isSafeInteger(p.version) &&
      Number.isFinite(p.at) &&
      Number.isSafeInteger(p.seen) &&
      Array.isArray(p.books) &&
      p.books.length <= 100 &&
      p.books.every((b) => Number.isSafeInteger(b));
    if (!state.pending.every(pendingOk)) return 'a pending answer is malformed';
    this.versions = new Map(
      check.counters.versions.map(({ open: _o, ...v }, i) => [
        key(v.channel, v.version),
        { ...v, lastAt: lastAt[i] },
      ]),
    );
    this.trimVersions();
    this.pending = state.pending.slice(-this.ctx.maxPending);
    this.expire();
    // What was saved may not have reached the broker before the restart.
    this.unpublished = this.versions.size > 0;
    return undefined;
  }
}
