import type { Logger } from '../../common/log.js';
import type { ProgressFactory } from '../../common/progress.js';
import type { SparseCounts } from '../baselines/cooccurrence.js';
import { evaluateScorer } from '../eval/evaluate.js';
import type { HeldOutUser } from '../split.js';
import type { Prepared } from './prepare.js';
import { linearSoftMoments, refitProblem, refitWeights, type SoftMoment, softMoments } from './refit.js';
import { type FanInStructure, fanInScorer } from './structure.js';
import type { ItemWeights } from './wideWeights.js';

/**
 * The shipped student's route (docs/distillation.md): start from the teacher's pruned weights on the
 * teacher's support, refit the weights in closed form (refit.ts), choose the ridge lambda on validation
 * users with hard targets (the twin), then the soft share (1 - a) at that lambda. Every candidate is
 * scored on all validation users; test users are never looked at here.
 */
export interface RefitPoint {
  alpha: number;
  lambda: number;
  /** What the ridge shrinks towards: zero, or the student's start (the teacher's pruned weights). */
  shrinkTo: 'zero' | 'start';
  /** a < 1 only: the teacher's softmax over unread books, or its wide path's raw scores (x B). */
  soft?: SoftKind;
  validationNdcg10: number;
}

export type SoftKind = 'softmax' | 'scores';

export interface ClosedFormResult {
  /** The pruned teacher weights: where the student starts. */
  start: FanInStructure;
  startValidation: number;
  /** Hard targets only (a = 1), lambda chosen on validation: the no-distillation twin. */
  twin: FanInStructure;
  /** The best distilled point (a < 1) at the twin's lambda. */
  distilled: FanInStructure;
  /** Whichever of the two validates better: what is shipped. */
  shipped: 'distilled' | 'twin';
  twinPoint: RefitPoint;
  distilledPoint: RefitPoint;
  points: RefitPoint[];
  temperature: number;
}

export interface ClosedFormOptions {
  prep: Prepared;
  counts: SparseCounts;
  /** Support and starting weights (the teacher's pruned columns). */
  start: FanInStructure;
  /** The teacher's logits for full histories (row-major batch x n). */
  teacherLogits: (histories: Int32Array[]) => Float32Array | Promise<Float32Array>;
  lambdas: number[];
  /** Ridge targets tried for the twin (zero, the start, or both). */
  shrinkTo: ('zero' | 'start')[];
  alphas: number[];
  temperature: number;
  /** The teacher's wide path: its raw scores are a second kind of soft target. */
  linearTeacher?: ItemWeights;
  progress: ProgressFactory;
  log: Logger;
}

export async function distilClosedForm(options: ClosedFormOptions): Promise<ClosedFormResult> {
  const { prep, start, log } = options;
  const n = prep.items;
  // One validation pass per candidate: the start, the twin's grid, then each soft kind's a.
  const candidates =
    1 +
    options.shrinkTo.length * options.lambdas.length +
    (options.linearTeacher ? 2 : 1) * options.alphas.filter((a) => a < 1).length;
  const grid = options.progress('student refit (validated candidates)', candidates);
  let validated = 0;
  const validate = async (s: FanInStructure) => {
    const score = await validationNdcg(s, prep.split.validation, n);
    grid.update(++validated);
    return score;
  };
  const startValidation = await validate(start);
  log.info('student start (pruned teacher)', { validationNdcg10: startValidation });

  const problem = refitProblem(options.counts, start);
  const points: RefitPoint[] = [];
  const at = (weights: Float32Array): FanInStructure => ({ ...start, weights });

  const prior = (p: RefitPoint) => (p.shrinkTo === 'start' ? start.weights : undefined);
  let twin = start;
  let twinPoint: RefitPoint = {
    alpha: 1,
    lambda: Number.NaN,
    shrinkTo: 'zero',
    validationNdcg10: Number.NEGATIVE_INFINITY,
  };
  for (const shrinkTo of options.shrinkTo) {
    for (const lambda of options.lambdas) {
      const point: RefitPoint = { alpha: 1, lambda, shrinkTo, validationNdcg10: 0 };
      const candidate = at(refitWeights(problem, null, 1, lambda, 0, prior(point)));
      point.validationNdcg10 = await validate(candidate);
      points.push(point);
      log.info('refit (hard targets)', { ...point });
      if (point.validationNdcg10 > twinPoint.validationNdcg10) {
        twin = candidate;
        twinPoint = point;
      }
    }
  }

  const bar = options.progress('soft targets (teacher over training users)', prep.rows.length);
  const softmax = await softMoments(prep.rows, start, n, options.teacherLogits, {
    temperature: options.temperature,
    onProgress: (done) => bar.update(done),
  });
  bar.finish();
  const moments: [SoftKind, SoftMoment][] = [['softmax', softmax]];
  if (options.linearTeacher)
    moments.push(['scores', linearSoftMoments(options.counts, start, options.linearTeacher)]);

  let distilled = twin;
  let distilledPoint: RefitPoint = {
    ...twinPoint,
    alpha: Number.NaN,
    validationNdcg10: Number.NEGATIVE_INFINITY,
  };
  for (const [kind, soft] of moments) {
    for (const alpha of options.alphas.filter((a) => a < 1)) {
      const point: RefitPoint = { ...twinPoint, alpha, soft: kind, validationNdcg10: 0 };
      const candidate = at(refitWeights(problem, soft, alpha, twinPoint.lambda, 0, prior(point)));
      point.validationNdcg10 = await validate(candidate);
      points.push(point);
      log.info('refit (blend of hard and soft targets)', { ...point });
      if (point.validationNdcg10 > distilledPoint.validationNdcg10) {
        distilled = candidate;
        distilledPoint = point;
      }
    }
  }
  grid.finish();
  return {
    start,
    startValidation,
    twin,
    distilled,
    shipped: distilledPoint.validationNdcg10 > twinPoint.validationNdcg10 ? 'distilled' : 'twin',
    twinPoint,
    distilledPoint,
    points,
    temperature: options.temperature,
  };
}

async function validationNdcg(structure: FanInStructure, users: HeldOutUser[], n: number): Promise<number> {
  const result = await evaluateScorer(fanInScorer('candidate', structure, n), users, n, { latencySample: 0 });
  return result.metrics['ndcg@10'];
}
