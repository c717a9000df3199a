import { BookrecError, errorMessage, isBookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { type Interactions, itemCount } from '../data/interactions.js';
import type { ItemWeights } from '../distill/wideWeights.js';
import type { Scorer } from '../eval/scorer.js';
import { invertSpdInPlace } from '../linalg/sweep.js';
import { invertSpdWasm } from '../linalg/wasmInverse.js';
import { cooccurrenceInto } from './cooccurrence.js';
import { easeCacheKey, readEaseCache, writeEaseCache } from './easeCache.js';
import { denseItemItemScorer, pruneRows, pruneSparseRows, sparseItemItemScorer } from './itemItem.js';

/**
 * EASE (Steck, WWW 2019): the item-item weights that best reconstruct X from X with a zero diagonal and
 * an L2 penalty, in closed form:
 *   P = (X^T X + lambda I)^-1,   B = I - P diag(1 / diag(P)),  i.e. B[i, j] = -P[i, j] / P[j, j], B[j, j] = 0.
 * The n x n inverse is the whole cost. Two solvers, measured on goodbooks-10k (n = 10,000) on this
 * machine: tfjs-wasm matmuls (float32, ~80 s) and plain JS (float64, several minutes); `auto` takes
 * wasm and falls back to JS when wasm does not load.
 */
export type EaseSolver = 'auto' | 'wasm' | 'js';

/** Beyond this many items the dense solve no longer fits wasm's 4 GB heap (three n^2 float32 buffers). */
export const MAX_EASE_ITEMS = 16_384;

export interface EaseOptions {
  lambda: number;
  solver?: EaseSolver;
  /** Folder of the fitted-weights cache; without it every fit solves. */
  cacheDir?: string;
  log?: Logger;
  onProgress?: (done: number, total: number) => void;
}

export interface EaseModel {
  n: number;
  lambda: number;
  /** Row-major n x n: B[i * n + j] is the weight from item i (in the history) to item j; zero diagonal. */
  weights: Float32Array;
  /** How the weights were obtained. */
  source: 'wasm' | 'js' | 'cache';
  /** Time to obtain them (solve or cache read). */
  seconds: number;
}

export async function fitEase(
  x: Interactions,
  trainUsers: Int32Array,
  options: EaseOptions,
): Promise<EaseModel> {
  const { lambda, log } = options;
  const n = itemCount(x);
  if (!(lambda > 0)) throw new BookrecError('BAD_ARGUMENT', `EASE lambda must be positive, got ${lambda}`);
  if (n > MAX_EASE_ITEMS) {
    throw new BookrecError(
      'MODEL_TOO_LARGE',
      `EASE is dense: ${n} items exceed the limit of ${MAX_EASE_ITEMS}`,
    );
  }
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const key = options.cacheDir ? easeCacheKey(x, trainUsers, lambda) : '';
  if (options.cacheDir) {
    const cached = await readEaseCache(options.cacheDir, key, n, log);
    if (cached) return { n, lambda, weights: cached, source: 'cache', seconds: elapsed() };
  }

  const solver = options.solver ?? 'auto';
  const onProgress = options.onProgress ?? throttledLog(log);
  let weights: Float32Array | undefined;
  let source: 'wasm' | 'js' = 'wasm';
  if (solver !== 'js') {
    try {
      weights = await solveWasm(x, trainUsers, lambda, onProgress);
    } catch (err) {
      if (solver === 'wasm' || !(isBookrecError(err) && err.code === 'BACKEND_UNAVAILABLE')) throw err;
      log?.warn('wasm solver unavailable, solving in JS (slower)', { error: errorMessage(err) });
    }
  }
  if (!weights) {
    source = 'js';
    weights = solveJs(x, trainUsers, lambda, onProgress);
  }
  const seconds = elapsed();
  log?.info('EASE solved', { n, lambda, solver: source, seconds });

  if (options.cacheDir) {
    try {
      const file = await writeEaseCache(options.cacheDir, key, n, lambda, weights);
      log?.info('EASE weights cached', { file });
    } catch (err) {
      // The cache only saves time: a full disk or read-only folder must not fail the fit.
      log?.warn('could not cache EASE weights', { dir: options.cacheDir, error: errorMessage(err) });
    }
  }
  return { n, lambda, weights, source, seconds };
}

/** Progress as a log line every 15 s, so a minutes-long solve is visibly alive. */
function throttledLog(
  log: Logger | undefined,
  everyMs = 15_000,
): ((done: number, total: number) => void) | undefined {
  if (!log) return undefined;
  let last = performance.now();
  return (done, total) => {
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    log.info('solving EASE', { rows: done, of: total });
  };
}

/** The Gram matrix X^T X + lambda I of the training users. */
function gram<T extends Float32Array | Float64Array>(
  out: T,
  x: Interactions,
  users: Int32Array,
  lambda: number,
): T {
  const n = itemCount(x);
  cooccurrenceInto(out, x, users);
  for (let i = 0; i < n; i++) out[i * n + i] += lambda;
  return out;
}

async function solveWasm(
  x: Interactions,
  users: Int32Array,
  lambda: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const n = itemCount(x);
  const p = await invertSpdWasm(() => gram(new Float32Array(n * n), x, users, lambda), n, { onProgress });
  return weightsFromInverse(p, n, p);
}

function solveJs(
  x: Interactions,
  users: Int32Array,
  lambda: number,
  onProgress?: (done: number, total: number) => void,
): Float32Array {
  const n = itemCount(x);
  const p = gram(new Float64Array(n * n), x, users, lambda);
  invertSpdInPlace(p, n, { onProgress });
  return weightsFromInverse(p, n, new Float32Array(n * n));
}

/** B = I - P diag(1/diag(P)) with a zero diagonal, into `out` (which may be `p` itself). */
export function weightsFromInverse(
  p: Float32Array | Float64Array,
  n: number,
  out: Float32Array,
): Float32Array {
  const diag = new Float64Array(n);
  for (let j = 0; j < n; j++) diag[j] = p[j * n + j];
  for (let i = 0; i < n; i++) {
    const base = i * n;
    for (let j = 0; j < n; j++) out[base + j] = -p[base + j] / diag[j];
    out[base + i] = 0;
  }
  return out;
}

/** The full dense EASE model as a Scorer. */
export function easeScorer(model: EaseModel, name = 'ease'): Scorer {
  return denseItemItemScorer(name, model.weights, model.n);
}

/** EASE pruned to each item's k largest outgoing weights (EVALUATION.md's "EASE pruned to k"). */
export function prunedEaseScorer(model: EaseModel, k: number, name = `ease-top${k}`): Scorer {
  return sparseItemItemScorer(name, pruneRows(model.weights, model.n, k));
}

/**
 * The `ease` and `ease-top<k>` rows of a report from the teacher's wide path, dense or sparse (the
 * per-book EASE of sparseEase.ts beyond the dense limit).
 */
export function easeScorerFromWeights(w: ItemWeights, k: number): Scorer[] {
  if (w.kind === 'dense') {
    const model: EaseModel = { n: w.n, lambda: 0, weights: w.values, source: 'cache', seconds: 0 };
    return [easeScorer(model), prunedEaseScorer(model, k)];
  }
  return [
    sparseItemItemScorer('ease', w.rows),
    sparseItemItemScorer(`ease-top${k}`, pruneSparseRows(w.rows, k)),
  ];
}
