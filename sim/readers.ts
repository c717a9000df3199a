import { BookrecError } from '../common/errors.js';
import type { RecommendationMessage } from '../common/protocol/recommendation.js';
import type { Signal } from '../common/protocol/signals.js';
import type { Prepared } from '../trainer/distill/prepare.js';
import type { HeldOutUser } from '../trainer/split.js';

/**
 * A simulated reader: one held-out test reader of the evaluation split (docs/evaluation.md), in book
 * ids. Its fold-in is what it has read (replayed to its speaker as signals); its targets are the books
 * it really went on to read, which the model never saw. When its speaker recommends, the reader takes
 * the first recommended book that is among its targets (accepted) and tells the speaker it started
 * and then finished it; when none is, it skips the first book. These follow-ups go in through the
 * agent's ordinary signal input, so the agent's own history and online counters see them.
 */
export interface SimReader {
  /** Dense user index in the data (for tracing back to the split). */
  user: number;
  foldIn: number[];
  targets: ReadonlySet<number>;
  /** Targets accepted so far, in order. */
  accepted: number[];
}

/**
 * The first `count` test readers (the split's order, deterministic for a seed) and the same users as
 * HeldOutUser, for the offline metrics on exactly the simulated readers.
 */
export function testReaders(prep: Prepared, count: number): { readers: SimReader[]; heldOut: HeldOutUser[] } {
  const test = prep.split.test;
  if (count > test.length) {
    throw new BookrecError(
      'SIM_TOO_FEW_READERS',
      `${count} devices need ${count} held-out test readers; this profile has ${test.length} (use fewer devices or --profile full)`,
    );
  }
  const heldOut = test.slice(0, count);
  const ids = prep.reads.itemIds;
  const readers = heldOut.map((u) => ({
    user: u.user,
    foldIn: Array.from(u.foldIn, (i) => ids[i]),
    targets: new Set(Array.from(u.targets, (i) => ids[i])),
    accepted: [],
  }));
  return { readers, heldOut };
}

/**
 * The fold-in as signals: `read` (a past read imported from elsewhere, weight 1 like the training
 * data's reads), one a minute, ending a minute before `now`. goodbooks has no read times; the order
 * only decides which book the spoken reason names.
 */
export function foldInSignals(reader: SimReader, now: number): Signal[] {
  const n = reader.foldIn.length;
  return reader.foldIn.map((bookId, i) => ({ bookId, kind: 'read', at: now - (n - i) * 60_000 }));
}

export interface Judgement {
  /** The book taken, or undefined when nothing fitted. */
  accepted: number | undefined;
  /** What the reader tells its speaker next. */
  followUp: Signal[];
}

/** The reader's reaction to a recommendation (see above); `now` dates the follow-up signals. */
export function judge(reader: SimReader, rec: RecommendationMessage, now: number): Judgement {
  const hit = rec.books.find((b) => reader.targets.has(b.id) && !reader.accepted.includes(b.id));
  if (hit) {
    reader.accepted.push(hit.id);
    return {
      accepted: hit.id,
      followUp: [
        { bookId: hit.id, kind: 'started', at: now },
        { bookId: hit.id, kind: 'finished', at: now + 1 },
      ],
    };
  }
  const first = rec.books[0];
  return { accepted: undefined, followUp: first ? [{ bookId: first.id, kind: 'skipped', at: now }] : [] };
}
