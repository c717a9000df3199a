import type { Signal } from '../../../common/protocol/signals.js';

/**
 * Turns what the player shows at moments (state, track, position) into listening events for the
 * book being played. No MPD here: mpdSource.ts reads the snapshots, this decides.
 *
 * - `started`: a book starts playing that the history has never seen (its first listening).
 * - `progress`: every `progressMs` of listening to a book, at most.
 * - `finished`: the position in the book (its queued tracks' durations before the current one, plus
 *   the position in this one) passes `finishedShare` of the book's total; or, when durations are
 *   unknown, the queue ran out while the book's last track played.
 * - `skipped`: another book (or something that is no book) starts playing after less than `skipMs` of
 *   listening to a book's first listening.
 *
 * Between two snapshots the player moved on by itself: when the track changed while playing, the old
 * track is taken to have played on for the time that passed (capped at its length), which is how
 * "the last track ended" is seen even though MPD says nothing more than "stopped". Across a lost
 * connection nothing is assumed (`interrupted()`): the next snapshot only says where the player is.
 */
export interface NowPlaying {
  /** MPD's id of the queue entry. */
  songId: string;
  /** The catalogue book the track belongs to; undefined: music, a podcast, an unknown book. */
  bookId: number | undefined;
  /** Seconds into the track. */
  elapsed: number;
  duration: number | undefined;
  /** Seconds of the book's queued tracks before this one. */
  offset: number;
  /** Seconds of all the book's queued tracks; undefined when a duration is unknown. */
  total: number | undefined;
  /** The book's last queued track. */
  last: boolean;
}

export interface PlayerSnapshot {
  /** When it was read, ms since the epoch. */
  at: number;
  state: 'play' | 'pause' | 'stop';
  current: NowPlaying | undefined;
  queueLength: number;
}

export interface TrackerOptions {
  skipMs: number;
  progressMs: number;
  /** 0..1: how far into a book counts as finished. */
  finishedShare: number;
  /** Whether the listener's history already has an event for the book. */
  inHistory: (bookId: number) => boolean;
}

interface Listening {
  bookId: number;
  first: boolean;
  listenedMs: number;
  /** listenedMs when the last progress event went out. */
  progressedMs: number;
  /** Seconds into the book, the furthest seen. */
  furthest: number;
  total: number | undefined;
  endReached: boolean;
  finished: boolean;
}

export class ListeningTracker {
  private readonly options: TrackerOptions;
  private book: Listening | undefined;
  private last: PlayerSnapshot | undefined;

  constructor(options: TrackerOptions) {
    this.options = options;
  }

  /** The book being followed, for status and tests. */
  get currentBook(): number | undefined {
    return this.book?.bookId;
  }

  /** The connection was lost: what happened until the next snapshot is unknown. */
  interrupted(): void {
    this.last = undefined;
  }

  observe(s: PlayerSnapshot): Signal[] {
    const events: Signal[] = [];
    const emit = (book: Listening, kind: Signal['kind']) =>
      events.push({ bookId: book.bookId, kind, at: s.at });
    const prev = this.last;
    this.last = s;
    if (prev) this.creditPlayed(prev, s);
    if (this.book && this.becameFinished(this.book)) emit(this.book, 'finished');

    const now = s.current;
    if (s.state === 'play' && now && now.bookId !== this.book?.bookId) {
      const left = this.book;
      if (left?.first && !left.finished && left.listenedMs < this.options.skipMs) emit(left, 'skipped');
      this.book = now.bookId === undefined ? undefined : this.begin(now.bookId);
      if (this.book?.first) emit(this.book, 'started');
    }

    const book = this.book;
    if (!book) return events;
    if (now && now.bookId === book.bookId && s.state !== 'stop') {
      book.furthest = Math.max(book.furthest, now.offset + now.elapsed);
      book.total = now.total;
    }
    if (this.becameFinished(book)) emit(book, 'finished');
    if (!book.finished && book.listenedMs - book.progressedMs >= this.options.progressMs) {
      book.progressedMs = book.listenedMs;
      emit(book, 'progress');
    }
    return events;
  }

  private begin(bookId: number): Listening {
    return {
      bookId,
      first: !this.options.inHistory(bookId),
      listenedMs: 0,
      progressedMs: 0,
      furthest: 0,
      total: undefined,
      endReached: false,
      finished: false,
    };
  }

  /** What the book's track did between two snapshots, when it was playing. */
  private creditPlayed(prev: PlayerSnapshot, s: PlayerSnapshot): void {
    const book = this.book;
    const was = prev.current;
    if (!book || prev.state !== 'play' || !was || was.bookId !== book.bookId) return;
    const seconds = Math.max(0, (s.at - prev.at) / 1000);
    const sameTrack = s.current?.songId === was.songId && s.state !== 'stop';
    // A track of unknown length may have ended long ago: then only what was seen of it counts.
    const reached = sameTrack
      ? s.current!.elapsed
      : Math.min(was.duration ?? was.elapsed, was.elapsed + seconds);
    book.listenedMs += 1000 * Math.min(seconds, Math.max(0, reached - was.elapsed));
    book.furthest = Math.max(book.furthest, was.offset + reached);
    book.total = was.total;
    // MPD drops the current entry only when the queue runs out (a user's stop keeps it; clear empties it).
    if (was.last && !s.current && s.state === 'stop' && s.queueLength > 0) book.endReached = true;
  }

  private becameFinished(book: Listening): boolean {
    if (book.finished) return false;
    const byPosition =
      book.total !== undefined && book.total > 0 && book.furthest >= this.options.finishedShare * book.total;
    const byEnd = book.total === undefined && book.endReached;
    if (!byPosition && !byEnd) return false;
    book.finished = true;
    return true;
  }
}
