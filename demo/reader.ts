import { appendFile, readFile, stat } from 'node:fs/promises';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { BookEntry } from '../common/model/catalogue.js';
import { PROFILES, prepare } from '../trainer/distill/prepare.js';
import type { HeldOutUser } from '../trainer/split.js';

/**
 * The listener the demo plays: a real goodbooks reader the model never trained on. The same split
 * `bookrec train --quick` makes (same data, profile and seed) puts the reader among the test users;
 * their fold-in books (what the model is shown in evaluation) become the speaker's history, and their
 * targets (the books held back) are what a good recommendation should find.
 */
export interface HeldOutReader {
  /** goodbooks user_id. */
  userId: number;
  history: BookEntry[];
  targets: BookEntry[];
  testReaders: number;
  /** How the reader was chosen, for the demo to say. */
  chosenBy: string;
}

/** Fold-in sizes the automatic choice takes: a history long enough to show, short enough to read. */
export const AUTO_HISTORY = { min: 25, max: 50 } as const;

export async function heldOutReader(
  dataDir: string,
  seed: number,
  userId: number,
  log: Logger,
): Promise<HeldOutReader> {
  const prep = await prepare(dataDir, seed, PROFILES.quick, log);
  const test = prep.split.test;
  const rawId = (u: HeldOutUser) => prep.reads.userIds[u.user];
  const chosen =
    userId > 0
      ? test.find((u) => rawId(u) === userId)
      : test.find((u) => u.foldIn.length >= AUTO_HISTORY.min && u.foldIn.length <= AUTO_HISTORY.max);
  if (!chosen) {
    const examples = test.slice(0, 5).map(rawId).join(', ');
    throw new BookrecError(
      'DEMO_READER',
      userId > 0
        ? `reader ${userId} is not a held-out test reader of the quick profile (seed ${seed}); some that are: ${examples}`
        : `no test reader with ${AUTO_HISTORY.min}-${AUTO_HISTORY.max} books of history`,
    );
  }
  const books = (items: Int32Array) => Array.from(items, (i) => prep.catalogue[i]);
  return {
    userId: rawId(chosen),
    history: books(chosen.foldIn),
    targets: books(chosen.targets),
    testReaders: test.length,
    chosenBy:
      userId > 0
        ? 'given with --reader'
        : `the first test reader with ${AUTO_HISTORY.min}-${AUTO_HISTORY.max} books; --reader USER_ID picks another`,
  };
}

/**
 * Appends the history to the agent's signal file as a player app would: one `finished` event per book,
 * a minute apart and ending now (goodbooks has no reading dates, so the order is the catalogue's).
 * One write, so the agent never sees a half-written batch it would have to wait out.
 */
export async function writeSignals(
  file: string,
  books: readonly BookEntry[],
  now = Date.now(),
): Promise<void> {
  const lines = books.map((b, i) =>
    JSON.stringify({
      bookId: b.id,
      kind: 'finished',
      at: new Date(now - (books.length - 1 - i) * 60_000).toISOString(),
    }),
  );
  await appendFile(file, `${lines.join('\n')}\n`);
}

/**
 * Whether the agent has taken in the whole signal file: it saves its read position (signals.pos) only
 * after every line up to there is in its fsynced history, so position = file size means all stored.
 */
export async function signalsTaken(signalFile: string, positionFile: string): Promise<boolean> {
  try {
    const [s, pos] = await Promise.all([
      stat(signalFile),
      readFile(positionFile, 'utf8').then((t) => JSON.parse(t) as { ino: number; offset: number }),
    ]);
    return pos.ino === s.ino && pos.offset === s.size;
  } catch {
    return false;
  }
}
