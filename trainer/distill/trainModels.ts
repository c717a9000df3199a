import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Logger } from '../../common/log.js';
import type { SparseFanIn } from '../../common/model/sparseFanIn.js';
import { evaluateScorer } from '../eval/evaluate.js';
import type { Scorer } from '../eval/scorer.js';
import { mulberry32 } from '../random.js';
import { makeBatch } from './batches.js';
import { type EpochInfo, type FitResult, fit } from './fit.js';
import { layersScorer, layersTrainable } from './layersTrainable.js';
import { countParams, mlpStudent, sparseStudent } from './models.js';
import type { Prepared, Profile } from './prepare.js';
import type { FanInStructure } from './structure.js';
import { WideDeepTeacher } from './teacher.js';
import type { ItemWeights } from './wideWeights.js';

/** Validation NDCG@10 on the early-stopping users: what every training run optimises for. */
async function validationNdcg(scorer: Scorer, prep: Prepared): Promise<number> {
  const result = await evaluateScorer(scorer, prep.earlyStop, prep.items, { latencySample: 0 });
  return result.metrics['ndcg@10'];
}

export interface TrainedTeacher {
  teacher: WideDeepTeacher;
  fit: FitResult;
  /** The wide path's scale chosen before the deep path trained. */
  calibratedScale: number;
}

/** Calibrates the wide path, then trains the deep path on top of it (docs/distillation.md). */
export async function trainTeacher(
  prep: Prepared,
  wideWeights: Float32Array | ItemWeights,
  hidden: number[],
  profile: Profile,
  seed: number,
  log: Logger,
  onBatch?: (done: number, total: number) => void,
): Promise<TrainedTeacher> {
  const teacher = new WideDeepTeacher(prep.items, wideWeights, hidden, seed);
  const sample = makeBatch(prep.rows.slice(0, 2000), prep.items, profile.keep, mulberry32(seed), 'dropped');
  const { scale } = teacher.calibrateScale(sample, [4, 8, 12, 16, 20, 24, 32, 48]);
  log.info('teacher wide path calibrated', { scale });
  const scorer = teacher.scorer();
  if (!teacher.deep) {
    // Nothing to train: the calibrated wide path is the teacher.
    const validation = await validationNdcg(scorer, prep);
    return {
      teacher,
      fit: { history: [], bestEpoch: -1, bestValidation: validation },
      calibratedScale: scale,
    };
  }
  const result = await fit(teacher.trainable(), prep.rows, {
    items: prep.items,
    epochs: profile.teacherEpochs,
    batchSize: profile.batchSize,
    learningRate: profile.teacherLearningRate,
    keep: profile.keep,
    targets: 'dropped',
    seed,
    patience: profile.patience,
    validate: () => validationNdcg(scorer, prep),
    onEpoch: (e) => log.info('teacher epoch', { ...e }),
    onBatch,
  });
  return { teacher, fit: result, calibratedScale: scale };
}

export interface StudentSpec {
  name: string;
  kind: 'mlp' | 'sparse';
  /** 1 = no distillation (hard labels only). */
  alpha: number;
  temperature: number;
  seed: number;
  /** MLP width (mlp) or the MLP path's width beside the sparse one (sparse; 0 = none). */
  hidden: number;
  /** Sparse students: the sources (and initial weights) chosen from the teacher. */
  structure?: FanInStructure;
  /** Overrides the profile's rate (e.g. a sparse student that starts from zero weights). */
  learningRate?: number;
}

export interface TrainedStudent {
  spec: StudentSpec;
  model: tfl.LayersModel;
  params: number;
  fit: FitResult;
  scorer: Scorer;
}

export function buildStudent(spec: StudentSpec, items: number): tfl.LayersModel {
  if (spec.kind === 'mlp') return mlpStudent(items, spec.hidden, spec.seed);
  const structure = spec.structure;
  if (!structure) throw new Error(`student ${spec.name}: a sparse student needs its structure`);
  const model = sparseStudent(items, structure.fanIn, spec.hidden, spec.seed);
  const layer = model.getLayer('neighbours') as SparseFanIn;
  const shape: [number, number] = [items, structure.fanIn];
  const values = tf.tidy(() => [
    tf.tensor2d(structure.weights, shape),
    tf.tensor2d(structure.sources, shape),
  ]);
  layer.setWeights(values);
  tf.dispose(values);
  return model;
}

export async function trainStudent(
  spec: StudentSpec,
  prep: Prepared,
  teacher: WideDeepTeacher | null,
  profile: Profile,
  log: Logger,
  onEpoch?: (e: EpochInfo) => void,
  onBatch?: (done: number, total: number) => void,
): Promise<TrainedStudent> {
  const model = buildStudent(spec, prep.items);
  const params = countParams(model);
  const scorer = layersScorer(spec.name, model, prep.items, { params, bytes: null });
  const distil = spec.alpha < 1 && teacher !== null;
  const result = await fit(layersTrainable(model), prep.rows, {
    items: prep.items,
    epochs: profile.studentEpochs,
    batchSize: profile.batchSize,
    learningRate:
      spec.learningRate ??
      (spec.kind === 'sparse' ? profile.sparseStudentLearningRate : profile.studentLearningRate),
    keep: profile.keep,
    targets: 'dropped',
    seed: spec.seed,
    patience: profile.patience,
    kd: distil
      ? { teacher: (b) => teacher.logits(b.kept), alpha: spec.alpha, temperature: spec.temperature }
      : undefined,
    validate: () => validationNdcg(scorer, prep),
    onEpoch: (e) => {
      log.info('student epoch', { student: spec.name, ...e });
      onEpoch?.(e);
    },
    onBatch,
  });
  return { spec, model, params, fit: result, scorer };
}
