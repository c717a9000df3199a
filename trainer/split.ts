import { type Interactions, rowOf, userCount } from './data/interactions.js';
import { deriveSeed, mulberry32, shuffle } from './random.js';

/**
 * The evaluation split of docs/evaluation.md (strong generalisation): users are split 80/10/10 by a
 * seeded permutation; each held-out user with at least MIN_READS reads is split again, a seeded 80% of
 * the reads being the fold-in (the model's input) and the rest the targets.
 */
export const MIN_READS = 5;
export const TRAIN_SHARE = 0.8;
export const VALIDATION_SHARE = 0.1;
export const FOLD_IN_SHARE = 0.8;

export interface HeldOutUser {
  /** Dense user index. */
  user: number;
  /** Dense item indices the model sees, ascending. */
  foldIn: Int32Array;
  /** Dense item indices to be found, ascending. */
  targets: Int32Array;
}

export interface Split {
  seed: number;
  /** Dense indices of training users, ascending. */
  trainUsers: Int32Array;
  validation: HeldOutUser[];
  test: HeldOutUser[];
  /** Held-out users left out of evaluation for having fewer than MIN_READS reads. */
  tooFewReads: { validation: number; test: number };
}

export function splitUsers(data: Interactions, seed: number): Split {
  const n = userCount(data);
  const perm = shuffle(
    Int32Array.from({ length: n }, (_, i) => i),
    mulberry32(seed),
  );
  const nTrain = Math.floor(n * TRAIN_SHARE);
  const nValidation = Math.floor(n * VALIDATION_SHARE);
  const trainUsers = perm.slice(0, nTrain).sort();
  const validationUsers = perm.slice(nTrain, nTrain + nValidation).sort();
  const testUsers = perm.slice(nTrain + nValidation).sort();
  const validation = holdOut(data, validationUsers, seed);
  const test = holdOut(data, testUsers, seed);
  return {
    seed,
    trainUsers,
    validation,
    test,
    tooFewReads: {
      validation: validationUsers.length - validation.length,
      test: testUsers.length - test.length,
    },
  };
}

/** Fold-in/targets for each user with enough reads; each user's choice depends only on (seed, user). */
export function holdOut(data: Interactions, users: Int32Array, seed: number): HeldOutUser[] {
  const out: HeldOutUser[] = [];
  for (const user of users) {
    const row = rowOf(data, user);
    if (row.length < MIN_READS) continue;
    const items = shuffle(Int32Array.from(row), mulberry32(deriveSeed(seed, user)));
    const nFoldIn = Math.round(row.length * FOLD_IN_SHARE);
    out.push({ user, foldIn: items.slice(0, nFoldIn).sort(), targets: items.slice(nFoldIn).sort() });
  }
  return out;
}
