import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import type { Interactions } from './interactions.js';
import { type LoadSummary, pairsToInteractions, readPairs } from './interactionsCsv.js';

/** The files of the goodbooks-10k data set that the trainer reads. */
export const GOODBOOKS_FILES = { ratings: 'ratings.csv', toRead: 'to_read.csv', books: 'books.csv' } as const;

export interface ReadingData {
  /** Who read what (any rating): the interactions every model learns from and is judged on. */
  reads: Interactions;
  /** "Marked to read", aligned to the same users and items; extra input signal only, never a target. */
  toRead?: Interactions;
  summaries: LoadSummary[];
}

/** Loads ratings.csv (v1 or v2 column order) and, when present and asked for, to_read.csv. */
export async function loadReadingData(
  dataDir: string,
  options: { toRead?: boolean } = {},
): Promise<ReadingData> {
  const ratingsFile = join(dataDir, GOODBOOKS_FILES.ratings);
  if (!existsSync(ratingsFile)) {
    throw new BookrecError(
      'DATA_MISSING',
      `${ratingsFile} not found: run "bookrec data fetch" or point --data (BOOKREC_DATA_DIR) at a goodbooks-10k folder`,
    );
  }
  const { interactions: reads, summary } = pairsToInteractions(await readPairs(ratingsFile));
  const summaries = [summary];
  const toReadFile = join(dataDir, GOODBOOKS_FILES.toRead);
  if (!options.toRead || !existsSync(toReadFile)) return { reads, summaries };
  const aligned = pairsToInteractions(await readPairs(toReadFile), reads);
  summaries.push(aligned.summary);
  return { reads, toRead: aligned.interactions, summaries };
}
