import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Interactions } from '../data/interactions.js';
import type { Scorer } from '../eval/scorer.js';
import { easeScorer, fitEase, prunedEaseScorer } from './ease.js';
import { itemKnnScorer } from './itemKnn.js';
import { popularityScorer } from './popularity.js';

/** What a baseline learns from: all reads, and which users are the training users. */
export interface BaselineInput {
  reads: Interactions;
  trainUsers: Int32Array;
  knnNeighbours: number;
  easeLambda: number;
  log: Logger;
  /** Where expensive fits (EASE) are cached between runs; none: no cache. */
  cacheDir?: string;
}

type BaselineFactory = (input: BaselineInput) => Scorer | Promise<Scorer>;

export const BASELINES: Record<string, BaselineFactory> = {
  pop: ({ reads, trainUsers }) => popularityScorer(reads, trainUsers),
  itemknn: ({ reads, trainUsers, knnNeighbours }) =>
    itemKnnScorer(reads, trainUsers, { neighbours: knnNeighbours }),
  ease: async (input) => easeScorer(await fitEase(input.reads, input.trainUsers, easeOptions(input))),
  // Reuses the fitted B through the cache when `ease` ran first in the same evaluation.
  'ease-top16': async (input) =>
    prunedEaseScorer(await fitEase(input.reads, input.trainUsers, easeOptions(input)), 16),
};

function easeOptions(input: BaselineInput) {
  return { lambda: input.easeLambda, cacheDir: input.cacheDir, log: input.log };
}

export function baselineNames(list: string): string[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new BookrecError('USAGE', 'no models given (--models pop,itemknn,...)');
  for (const name of names) {
    if (!(name in BASELINES)) {
      throw new BookrecError('USAGE', `unknown model "${name}"; known: ${Object.keys(BASELINES).join(', ')}`);
    }
  }
  return names;
}
