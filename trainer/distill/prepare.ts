import type { Logger } from '../../common/log.js';
import type { BookEntry } from '../../common/model/catalogue.js';
import { loadReadingData } from '../data/goodbooks.js';
import { type Interactions, itemCount, itemPopularity, rowOf } from '../data/interactions.js';
import { subsetInteractions } from '../data/subset.js';
import { type HeldOutUser, type Split, splitUsers } from '../split.js';

/** How much work a training run does: the full run, or the quick one for demos and tests. */
export interface Profile {
  name: 'full' | 'quick';
  /** Most-read books kept (Infinity: all). */
  maxItems: number;
  /** Users kept, in id order (Infinity: all). */
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

/** Everything the models learn from and are judged on, loaded once per run. */
export interface Prepared {
  reads: Interactions;
  split: Split;
  items: number;
  /** Training users' books, the rows of the training examples. */
  rows: Int32Array[];
  /** Validation users for early stopping (a prefix of split.validation). */
  earlyStop: HeldOutUser[];
  /** The catalogue in model item order: what the speaker says. */
  catalogue: BookEntry[];
  /** Book ids for listeners without history: the most read by training users. */
  fallback: number[];
}

export async function prepare(
  dataDir: string,
  seed: number,
  profile: Profile,
  log: Logger,
): Promise<Prepared> {
  const data = await loadReadingData(dataDir, { catalogue: true });
  for (const s of data.summaries) log.info('loaded', { ...s });
  const reads = Number.isFinite(profile.maxItems)
    ? subsetInteractions(data.reads, profile.maxItems, profile.maxUsers)
    : data.reads;
  const split = splitUsers(reads, seed);
  const items = itemCount(reads);
  const books = data.catalogue?.byId;
  const catalogue: BookEntry[] = Array.from(reads.itemIds, (id) => {
    const book = books?.get(id);
    return {
      id,
      title: book?.title ?? `Book ${id}`,
      authors: book?.authors ?? '',
      year: book?.year ?? null,
      language: book?.language ?? '',
    };
  });
  const pop = itemPopularity(reads, split.trainUsers);
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
    reads,
    split,
    items,
    rows: Array.from(split.trainUsers, (u) => rowOf(reads, u)),
    earlyStop: split.validation.slice(0, profile.earlyStopUsers),
    catalogue,
    fallback,
  };
}
