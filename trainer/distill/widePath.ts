import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ProgressFactory } from '../../common/progress.js';
import { cooccurrenceBound, type SparseCounts } from '../baselines/cooccurrence.js';
import { fitEase, MAX_EASE_ITEMS } from '../baselines/ease.js';
import { sparseItemItemScorer } from '../baselines/itemItem.js';
import { fitSparseEase } from '../baselines/sparseEase.js';
import { evaluateScorer } from '../eval/evaluate.js';
import type { Prepared } from './prepare.js';
import { denseWeights, type ItemWeights } from './wideWeights.js';

/**
 * The teacher's wide path: EASE in closed form (dense n x n inverse) up to `denseMax` books, and beyond
 * that the per-book EASE on candidate supports (sparseEase.ts), whose lambda is chosen on validation
 * users (sparse catalogues want a smaller one than goodbooks' 100: amazon-book-82k 10 vs 100 gave
 * validation NDCG@10 0.080 vs 0.074).
 */
export interface WidePathOptions {
  lambda: number;
  /** Sparse path: lambdas tried on validation users. */
  sparseLambdas: number[];
  candidates: number;
  denseMax: number;
  cacheDir: string;
  progress: ProgressFactory;
  log: Logger;
}

export interface WidePath {
  weights: ItemWeights;
  lambda: number;
  /** Sparse path only: the candidates per book and the validation NDCG@10 of each lambda tried. */
  candidates?: number;
  lambdaChoice?: { lambda: number; validationNdcg10: number }[];
}

export async function fitWidePath(
  prep: Prepared,
  counts: SparseCounts,
  options: WidePathOptions,
): Promise<WidePath> {
  const n = prep.items;
  if (n <= options.denseMax) {
    const bar = options.progress('EASE inverse (rows)', n);
    const ease = await fitEase(prep.reads, prep.split.trainUsers, {
      lambda: options.lambda,
      cacheDir: options.cacheDir,
      log: options.log,
      onProgress: (done) => bar.update(done),
    });
    bar.finish();
    return { weights: denseWeights(ease.weights, n), lambda: options.lambda };
  }
  let best: WidePath | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  const lambdaChoice: { lambda: number; validationNdcg10: number }[] = [];
  for (const lambda of options.sparseLambdas) {
    const bar = options.progress(`sparse EASE lambda ${lambda} (books)`, n);
    const fitted = fitSparseEase(counts, {
      lambda,
      candidates: options.candidates,
      onProgress: (done) => bar.update(done),
    });
    bar.finish();
    const scorer = sparseItemItemScorer('ease', fitted.rows);
    const score = (await evaluateScorer(scorer, prep.split.validation, n, { latencySample: 0 })).metrics[
      'ndcg@10'
    ];
    lambdaChoice.push({ lambda, validationNdcg10: score });
    options.log.info('sparse EASE', { lambda, candidates: options.candidates, validationNdcg10: score });
    if (score > bestScore) {
      bestScore = score;
      best = {
        weights: { kind: 'sparse', n, rows: fitted.rows, columns: fitted.columns },
        lambda,
        candidates: options.candidates,
      };
    }
  }
  return { ...best!, lambdaChoice };
}

/**
 * What the run will hold at its peak, estimated before anything big is allocated: the sparse
 * co-occurrence (at most sum n_u^2 entries of 8 bytes), the teacher's wide path (dense: three n^2 float32
 * buffers in the solver; sparse: rows and columns of n x candidates), the student's refit (n x K^2
 * float32) and the deep path's n x hidden layers with Adam's two moments.
 */
export function estimatePeakBytes(
  prep: Prepared,
  options: { candidates: number; denseMax: number; fanIn: number; teacherHidden: number[] },
): number {
  const n = prep.items;
  const counts = cooccurrenceBound(prep.reads, prep.split.trainUsers) * 8;
  const wide = n <= options.denseMax ? 3 * n * n * 4 : 2 * n * options.candidates * 8;
  const refit = n * options.fanIn * options.fanIn * 4;
  const deep = options.teacherHidden.reduce((sum, h) => sum + 2 * n * h * 4 * 3, 0);
  return counts + wide + refit + deep;
}

/** Stops before allocating when the estimate is past the allowed memory, naming the flags that help. */
export function checkMemory(bytes: number, maxGb: number, n: number): void {
  if (bytes <= maxGb * 1e9) return;
  throw new BookrecError(
    'MODEL_TOO_LARGE',
    `a catalogue of ${n} books needs about ${(bytes / 1e9).toFixed(1)} GB here, more than --max-memory-gb ${maxGb}: ` +
      `keep fewer books (--max-items N keeps the N most read), or lower --ease-candidates, --teacher-hidden or --ease-dense-max ${Math.min(n - 1, MAX_EASE_ITEMS)}`,
  );
}
