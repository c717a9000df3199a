import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { BookEntry } from '../../common/model/catalogue.js';
import { loadCatalogue } from '../data/books.js';
import { GOODBOOKS_FILES, loadReadingData } from '../data/goodbooks.js';
import { type Interactions, interactionCount, itemCount, rowOf } from '../data/interactions.js';
import { loadItemLabels } from '../data/items.js';
import { dropItems, subsetInteractions, trainingReaderCounts } from '../data/subset.js';
import { type HeldOutUser, type Split, splitUsers } from '../split.js';

/** How much work a training run does: the full run, or the quick one for demos and tests. */
export interface Profile {
  name: 'full' | 'quick';
  /** Most-read books kept (Infinity: all). */
  maxItems: number;
  /** Users kept, a sample drawn with the run's seed (Infinity: all). */
  maxUsers: number;
  teacherEpochs: number;
  studentEpochs: number;
  /** Validation users used for early stopping (the grid uses all of them). */
  earlyStopUsers: number;
  patience: number;
  batchSize: number;
  /** Probability that an input book is kept in training examples. */
  keep: number;
  teacherLearningRate: number;
  /** MLP students start from random weights. */
  studentLearningRate: number;
  /** Sparse students start from the teacher's pruned weights: a gentler rate fine-tunes them. */
  sparseStudentLearningRate: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    maxItems: Number.POSITIVE_INFINITY,
    maxUsers: Number.POSITIVE_INFINITY,
    teacherEpochs: 2,
    studentEpochs: 3,
    earlyStopUsers: 1000,
    patience: 1,
    batchSize: 256,
    keep: 0.5,
    teacherLearningRate: 1e-4,
    studentLearningRate: 3e-3,
    sparseStudentLearningRate: 1e-4,
  },
  quick: {
    name: 'quick',
    maxItems: 1500,
    maxUsers: 8000,
    teacherEpochs: 2,
    studentEpochs: 3,
    earlyStopUsers: 300,
    patience: 1,
    batchSize: 256,
    keep: 0.5,
    teacherLearningRate: 1e-3,
    studentLearningRate: 3e-3,
    sparseStudentLearningRate: 3e-4,
  },
};

/** Below these the evaluation says nothing (DATA_TOO_SMALL, never a crash deeper down). */
export const MIN_TEST_USERS = 100;
export const MIN_BOOKS = 2;

export interface PrepareOptions {
  /** Keep only the most-read books (the flag that helps when a catalogue is too big for memory). */
  maxItems?: number;
  /** The data set's name in reports and model ids (default: the data folder's name). */
  datasetName?: string;
  /** Held-out users needed to trust the numbers (default MIN_TEST_USERS). */
  minTestUsers?: number;
}

/** Everything the models learn from and are judged on, loaded once per run. */
export interface Prepared {
  /** The data set's name: the data folder's, or --dataset-name. */
  dataset: string;
  /** Where the spoken catalogue came from: books.csv, an items.csv column, or "book <id>". */
  labels: string;
  /** What went wrong with the labels file, for the report: skipped rows, or why it was not used. */
  labelNotes: string[];
  reads: Interactions;
  split: Split;
  items: number;
  /** Training users' books, the rows of the training examples. */
  rows: Int32Array[];
  /** Validation users for early stopping (a prefix of split.validation). */
  earlyStop: HeldOutUser[];
  /** The catalogue in model item order: what the speaker says. */
  catalogue: BookEntry[];
  /** Book ids for listeners without history: the most read by all training readers of the data. */
  fallback: number[];
}

export async function prepare(
  dataDir: string,
  seed: number,
  profile: Profile,
  log: Logger,
  options: PrepareOptions = {},
): Promise<Prepared> {
  const data = await loadReadingData(dataDir);
  for (const s of data.summaries) log.info('loaded', { ...s });
  // The speaker's catalogue and signals name books by positive ids (docs/model-package.md): a data set
  // whose ids start at 0 loses that one book, said in the log and the report.
  const zero = data.reads.itemIds.findIndex((id) => id < 1);
  let all = data.reads;
  if (zero >= 0) {
    const before = interactionCount(all);
    all = dropItems(all, [zero]);
    log.warn('book id 0 left out: the speaker names books by positive ids', {
      reads: before - interactionCount(all),
    });
  }
  const maxItems = Math.min(
    profile.maxItems,
    options.maxItems && options.maxItems > 0 ? options.maxItems : Infinity,
  );
  const reads = Number.isFinite(maxItems) ? subsetInteractions(all, maxItems, profile.maxUsers, seed) : all;
  const items = itemCount(reads);
  if (items < MIN_BOOKS) {
    throw new BookrecError(
      'DATA_TOO_SMALL',
      `${dataDir}: ${items} books were read; at least ${MIN_BOOKS} are needed`,
    );
  }
  const split = splitUsers(reads, seed);
  const minTest = options.minTestUsers ?? MIN_TEST_USERS;
  if (split.test.length < minTest) {
    throw new BookrecError(
      'DATA_TOO_SMALL',
      `${dataDir}: ${split.test.length} test users with >= 5 reads (of ${reads.userIds.length} users); at least ${minTest} are needed for the evaluation to mean anything`,
    );
  }
  const { catalogue, labels, labelNotes } = await spokenCatalogue(dataDir, reads.itemIds, log);
  // Counted over every training reader of the data, not only the quick profile's sample.
  const pop = trainingReaderCounts(all, reads, split.trainUsers);
  const fallback = Array.from(pop.keys())
    .sort((a, b) => pop[b] - pop[a] || a - b)
    .slice(0, 50)
    .map((i) => reads.itemIds[i]);
  log.info('prepared', {
    profile: profile.name,
    items,
    trainUsers: split.trainUsers.length,
    validationUsers: split.validation.length,
    testUsers: split.test.length,
  });
  return {
    dataset: options.datasetName || basename(resolve(dataDir)),
    labels,
    labelNotes,
    reads,
    split,
    items,
    rows: Array.from(split.trainUsers, (u) => rowOf(reads, u)),
    earlyStop: split.validation.slice(0, profile.earlyStopUsers),
    catalogue,
    fallback,
  };
}

interface SkippedRows {
  skipped: number;
  /** As "file:line: reason". */
  skippedExamples: string[];
}

/**
 * Loads an optional labels file: its skipped rows go to the log and the report; a file that cannot be
 * used at all (broken header, nothing valid, unreadable) costs the labels only, never the training.
 */
async function optionalLabels<T>(
  file: string,
  load: (file: string) => Promise<T>,
  rows: (loaded: T) => SkippedRows,
  log: Logger,
  notes: string[],
): Promise<T | undefined> {
  try {
    const loaded = await load(file);
    const { skipped, skippedExamples } = rows(loaded);
    if (skipped > 0) {
      log.warn('label rows skipped', { file, skipped, examples: skippedExamples });
      notes.push(
        `${file}: ${skipped} rows skipped, e.g. ${skippedExamples.map((e) => e.slice(file.length + 1)).join('; ')}`,
      );
    }
    return loaded;
  } catch (err) {
    if (!(err instanceof BookrecError)) throw err;
    log.warn('labels file not used: books are spoken as "book <id>"', { file, error: err.message });
    notes.push(`${file} not used (${err.message}): books are spoken as "book <id>"`);
    return undefined;
  }
}

/** What the speaker says for each book: books.csv, else an items.csv label column, else "book <id>". */
async function spokenCatalogue(
  dataDir: string,
  ids: Int32Array,
  log: Logger,
): Promise<{ catalogue: BookEntry[]; labels: string; labelNotes: string[] }> {
  const labelNotes: string[] = [];
  const booksFile = join(dataDir, GOODBOOKS_FILES.books);
  const books = existsSync(booksFile)
    ? await optionalLabels(booksFile, loadCatalogue, (c) => c.summary, log, labelNotes)
    : undefined;
  if (books) {
    log.info('loaded', { ...books.summary });
    const catalogue = Array.from(ids, (id) => {
      const book = books.byId.get(id);
      return {
        id,
        title: book?.title ?? `book ${id}`,
        authors: book?.authors ?? '',
        year: book?.year ?? null,
        language: book?.language ?? '',
      };
    });
    return { catalogue, labels: GOODBOOKS_FILES.books, labelNotes };
  }
  const itemsFile = join(dataDir, 'items.csv');
  const labels = existsSync(itemsFile)
    ? await optionalLabels(itemsFile, loadItemLabels, (l) => l, log, labelNotes)
    : undefined;
  const catalogue = Array.from(ids, (id) => ({
    id,
    title: labels?.byId.get(id) ?? `book ${id}`,
    authors: '',
    year: null,
    language: '',
  }));
  return {
    catalogue,
    labels: labels
      ? `items.csv column "${labels.column}" ("book <id>" where it has no row)`
      : 'none: "book <id>"',
    labelNotes,
  };
}
