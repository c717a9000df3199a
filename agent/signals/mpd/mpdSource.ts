import { errorMessage, isBookrecError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { Signal } from '../../../common/protocol/signals.js';
import type { SignalSink, SignalSource, SignalSourceFactory } from '../source.js';
import { MpdConnection } from './client.js';
import { PlayerReader } from './player.js';
import { describeAddress, type MpdAddress, parseMpdAddress } from './protocol.js';
import { ListeningTracker } from './tracker.js';

/**
 * signals.mpd: the speaker's own player (MPD, or moOde / Volumio / Mopidy's MPD interface) as a
 * signal source. It waits with `idle player`, reads the player after every change (and every few
 * seconds while playing, so a position past 95% is seen), and hands the tracker's events to its sink.
 * MPD may be down, restart, refuse the password or drop the socket: the source then tries again with
 * backoff (doubling, capped), says so in health() and the log, and keeps the book it was following,
 * so a restart in the middle of a book loses no event. It starts with the service and never fails it.
 */
export type MpdState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface MpdHealth {
  state: MpdState;
  /** Connections made. */
  connects: number;
  /** Failed attempts and lost connections. */
  failures: number;
  /** Times the player was read (after each change, and while playing every pollMs). */
  reads: number;
  /** The last failure, "CODE: message" (never the password); null while connected. */
  lastError: string | null;
  albums: { matched: number; unknown: number; ambiguous: number };
  events: { started: number; progress: number; finished: number; skipped: number };
}

export interface MpdSourceOptions {
  address: MpdAddress;
  password: string;
  sink: SignalSink;
  log: Logger;
  skipMs: number;
  progressMs: number;
  finishedShare?: number;
  /** How often the player is read while playing. */
  pollMs?: number;
  /** How long an idle waits when not playing before checking the connection is alive. */
  quietMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  timeoutMs?: number;
  maxLineBytes?: number;
  maxResponseBytes?: number;
  now?: () => number;
}

export class MpdSource implements SignalSource {
  readonly name = 'mpd';
  readonly needs = 'local';
  private readonly options: MpdSourceOptions;
  private readonly where: string;
  private readonly reader: PlayerReader;
  private readonly tracker: ListeningTracker;
  private readonly status: MpdHealth = {
    state: 'connecting',
    connects: 0,
    failures: 0,
    reads: 0,
    lastError: null,
    albums: { matched: 0, unknown: 0, ambiguous: 0 },
    events: { started: 0, progress: 0, finished: 0, skipped: 0 },
  };
  private running: Promise<void> | undefined;
  private stopping = false;
  private conn: MpdConnection | undefined;
  private abort = new AbortController();
  private wake: (() => void) | undefined;

  constructor(options: MpdSourceOptions) {
    this.options = options;
    this.where = describeAddress(options.address);
    const now = options.now ?? Date.now;
    this.reader = new PlayerReader({ catalogue: () => options.sink.catalogue(), log: options.log, now });
    this.tracker = new ListeningTracker({
      skipMs: options.skipMs,
      progressMs: options.progressMs,
      finishedShare: options.finishedShare ?? 0.95,
      inHistory: (bookId) => options.sink.inHistory(bookId),
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.abort.abort();
    await this.running;
    this.running = undefined;
  }

  health(): MpdHealth {
    return { ...this.status, albums: { ...this.reader.albums }, events: { ...this.status.events } };
  }

  private async run(): Promise<void> {
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30_000;
    let delay = min;
    while (!this.stopping) {
      try {
        this.conn = await MpdConnection.open({
          address: this.options.address,
          password: this.options.password,
          timeoutMs: this.options.timeoutMs ?? 10_000,
          maxLineBytes: this.options.maxLineBytes ?? 64 * 1024,
          maxResponseBytes: this.options.maxResponseBytes ?? 1024 * 1024,
          signal: this.abort.signal,
        });
        if (this.stopping) break;
        this.status.state = 'connected';
        this.status.connects++;
        this.status.lastError = null;
        delay = min;
        this.options.log.info('connected to MPD', { where: this.where, protocol: this.conn.version });
        await this.follow(this.conn);
      } catch (err) {
        if (this.stopping) break;
        this.failed(err, delay);
      } finally {
        this.conn?.close();
        this.conn = undefined;
        this.tracker.interrupted();
      }
      if (this.stopping) break;
      this.status.state = 'reconnecting';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      delay = Math.min(max, delay * 2);
    }
    this.status.state = 'stopped';
  }

  /** Reads the player after every change until the connection ends (which throws). */
  private async follow(conn: MpdConnection): Promise<never> {
    for (;;) {
      const snapshot = await this.reader.read(conn);
      this.status.reads++;
      for (const signal of this.tracker.observe(snapshot)) await this.emit(signal);
      const wait =
        snapshot.state === 'play' ? (this.options.pollMs ?? 5000) : (this.options.quietMs ?? 30_000);
      await conn.idle(['player'], wait);
    }
  }

  private async emit(signal: Signal): Promise<void> {
    const kind = signal.kind as keyof MpdHealth['events'];
    if (kind in this.status.events) this.status.events[kind]++;
    this.options.log.info('listening event', { bookId: signal.bookId, kind: signal.kind });
    await this.options.sink
      .signal(signal)
      .catch((err: unknown) =>
        this.options.log.error('storing an MPD signal failed', { error: errorMessage(err) }),
      );
  }

  /** Logged when the failure is new (not on every retry of the same one); always in health(). */
  private failed(err: unknown, delay: number): void {
    const text = isBookrecError(err) ? `${err.code}: ${err.message}` : errorMessage(err);
    const fresh = text !== this.status.lastError;
    this.status.failures++;
    this.status.lastError = text;
    const fields = {
      where: this.where,
      error: text,
      retryInSeconds: delay / 1000,
      failures: this.status.failures,
    };
    if (fresh) this.options.log.warn('MPD unavailable: trying again with backoff', fields);
    else this.options.log.debug('MPD still unavailable', fields);
  }
}

/** The factory the service lists in signalSources.ts. */
export const mpdSource: SignalSourceFactory = ({ config, sink, log }) => {
  const s = config.signals;
  if (!s.mpd) return undefined;
  return new MpdSource({
    address: parseMpdAddress(s.mpd),
    password: s.mpdPassword,
    sink,
    log: log.child('mpd'),
    skipMs: s.mpdSkipSeconds * 1000,
    progressMs: s.mpdProgressSeconds * 1000,
  });
};
