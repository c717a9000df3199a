import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { type Interactions, itemCount } from '../data/interactions.js';
import { denseWeights, type ItemWeights } from '../distill/wideWeights.js';
import type { Scorer } from '../eval/scorer.js';
import { sparseCooccurrence } from './cooccurrence.js';
import { easeScorerFromWeights, fitEase, MAX_EASE_ITEMS } from './ease.js';
import { itemKnnScorer } from './itemKnn.js';
import { popularityScorer } from './popularity.js';
import { fitSparseEase } from './sparseEase.js';

/** What a baseline learns from: all reads, and which users are the training users. */
export interface BaselineInput {
  reads: Interactions;
  trainUsers: Int32Array;
  knnNeighbours: number;
  easeLambda: number;
  /** Past MAX_EASE_ITEMS books: EASE on per-book candidate supports of this size (sparseEase.ts). */
  easeCandidates?: number;
  /** Dense EASE up to this many books (default MAX_EASE_ITEMS), sparse beyond. */
  easeDenseMax?: number;
  log: Logger;
  /** Where expensive fits (EASE) are cached between runs; none: no cache. */
  cacheDir?: string;
}

type BaselineFactory = (input: BaselineInput) => Scorer | Promise<Scorer>;

export const BASELINES: Record<string, BaselineFactory> = {
  pop: ({ reads, trainUsers }) => popularityScorer(reads, trainUsers),
  itemknn: ({ reads, trainUsers, knnNeighbours }) =>
    itemKnnScorer(reads, trainUsers, { neighbours: knnNeighbours }),
  ease: async (input) => easeScorerFromWeights(await easeWeights(input), 16)[0],
  'ease-top16': async (input) => easeScorerFromWeights(await easeWeights(input), 16)[1],
};

/**
 * EASE's weights, dense (closed form, cached on disk) up to MAX_EASE_ITEMS books, sparse beyond; fitted
 * once per evaluation (the sparse fit has no disk cache, so `ease` and `ease-top16` share it here).
 */
const fitted = new WeakMap<BaselineInput, Promise<ItemWeights>>();

function easeWeights(input: BaselineInput): Promise<ItemWeights> {
  let weights = fitted.get(input);
  if (!weights) {
    weights = fitEaseWeights(input);
    fitted.set(input, weights);
  }
  return weights;
}

async function fitEaseWeights(input: BaselineInput): Promise<ItemWeights> {
  const n = itemCount(input.reads);
  if (n <= (input.easeDenseMax ?? MAX_EASE_ITEMS)) {
    const ease = await fitEase(input.reads, input.trainUsers, {
      lambda: input.easeLambda,
      cacheDir: input.cacheDir,
      log: input.log,
    });
    return denseWeights(ease.weights, n);
  }
  const candidates = input.easeCandidates ?? 64;
  input.log.info('sparse EASE (catalogue past the dense limit)', { n, candidates, lambda: input.easeLambda });
  const { rows, columns } = fitSparseEase(sparseCooccurrence(input.reads, input.trainUsers), {
    lambda: input.easeLambda,
    candidates,
  });
  return { kind: 'sparse', n, rows, columns };
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
