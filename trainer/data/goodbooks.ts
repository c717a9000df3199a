import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import { type Catalogue, loadCatalogue } from './books.js';
import type { Interactions } from './interactions.js';
import { type LoadSummary, pairsToInteractions, readPairs } from './interactionsCsv.js';

/** The files of the goodbooks-10k data set that the trainer reads. */
export const GOODBOOKS_FILES = { ratings: 'ratings.csv', toRead: 'to_read.csv', books: 'books.csv' } as const;

export interface ReadingData {
  /** Who read what (any rating): the interactions every model learns from and is judged on. */
  reads: Interactions;
  /** "Marked to read", aligned to the same users and items; extra input signal only, never a target. */
  toRead?: Interactions;
  /** books.csv: titles, authors, year, language by book id; loaded only when asked for. */
  catalogue?: Catalogue;
  summaries: LoadSummary[];
}

export interface ReadingDataOptions {
  /** Also load to_read.csv when the folder has it. */
  toRead?: boolean;
  /** Also load books.csv; unlike to_read, asking for it when it is absent is an error. */
  catalogue?: boolean;
}

/**
 * Loads ratings.csv (v1 or v2 column order) and, when asked for, to_read.csv (if present) and books.csv.
 */
export async function loadReadingData(
  dataDir: string,
  options: ReadingDataOptions = {},
): Promise<ReadingData> {
  const ratingsFile = join(dataDir, GOODBOOKS_FILES.ratings);
  if (!existsSync(ratingsFile)) {
    throw new BookrecError(
      'DATA_MISSING',
      `${ratingsFile} not found: run "bookrec data fetch" or point --data (BOOKREC_DATA_DIR) at a goodbooks-10k folder`,
    );
  }
  const { interactions: reads, summary } = pairsToInteractions(await readPairs(ratingsFile));
  const data: ReadingData = { reads, summaries: [summary] };
  const toReadFile = join(dataDir, GOODBOOKS_FILES.toRead);
  if (options.toRead && existsSync(toReadFile)) {
    const aligned = pairsToInteractions(await readPairs(toReadFile), reads);
    data.summaries.push(aligned.summary);
    data.toRead = aligned.interactions;
  }
  if (options.catalogue) data.catalogue = await loadCatalogue(join(dataDir, GOODBOOKS_FILES.books));
  return data;
}
