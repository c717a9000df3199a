import type * as tfl from '@tensorflow/tfjs-layers';
import { BookrecError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import type { ProgressFactory } from '../../common/progress.js';
import { type SparseCounts, sparseCooccurrence } from '../baselines/cooccurrence.js';
import { type ClosedFormResult, distilClosedForm } from './closedForm.js';
import { countParams } from './models.js';
import type { Prepared, Profile } from './prepare.js';
import type { FanInStructure } from './structure.js';
import { obtainTeacher } from './teacherCache.js';
import { numberList, shrinkTargets, type TrainConfig, teacherWidths } from './trainConfig.js';
import { buildStudent, type TrainedTeacher } from './trainModels.js';
import { checkMemory, estimatePeakBytes, fitWidePath, type WidePath } from './widePath.js';
import { supportFromColumns } from './wideWeights.js';

/**
 * The chain from prepared data to the shipped student, shared by `bookrec train` and the simulator:
 * co-occurrence, the teacher's wide path (dense or sparse EASE), the teacher (calibrated, with its deep
 * path when it has one), and the student: the teacher's support and pruned weights, refitted in closed
 * form (closedForm.ts). `phase` times each step (the train command's clock; identity elsewhere).
 */
export interface ShippedStudentOptions {
  prep: Prepared;
  config: TrainConfig;
  profile: Profile;
  temperature: number;
  progress: ProgressFactory;
  log: Logger;
  phase?: <T>(name: string, work: () => Promise<T>) => Promise<T>;
}

export interface ShippedStudent {
  counts: SparseCounts;
  wide: WidePath;
  teacherHidden: number[];
  trainedTeacher: TrainedTeacher;
  distilled: ClosedFormResult;
  /** The weights shipped: the distilled student's or the twin's, whichever validated better. */
  structure: FanInStructure;
  /** The shipped student as the SparseFanIn model the package holds (the caller disposes it). */
  model: tfl.LayersModel;
  params: number;
}

export async function trainShippedStudent(options: ShippedStudentOptions): Promise<ShippedStudent> {
  const { prep, config, profile, progress, log } = options;
  const phase = options.phase ?? (<T>(_: string, work: () => Promise<T>) => work());
  const items = prep.items;
  const teacherHidden = teacherWidths(config.teacherHidden, items, config.easeDenseMax);
  if (config.fanIn < 1 || config.fanIn >= items) {
    throw new BookrecError(
      'DATA_TOO_SMALL',
      `${config.dataDir}: ${items} books cannot feed a fan-in of ${config.fanIn} (--fan-in must be below the number of books)`,
    );
  }
  checkMemory(
    estimatePeakBytes(prep, {
      candidates: config.easeCandidates,
      denseMax: config.easeDenseMax,
      fanIn: config.fanIn,
      teacherHidden,
    }),
    config.maxMemoryGb,
    items,
  );
  const counts = await phase('co-occurrence', async () => {
    const bar = progress('co-occurrence (books)', items);
    const c = sparseCooccurrence(prep.reads, prep.split.trainUsers, (done) => bar.update(done));
    bar.finish();
    return c;
  });
  const wide = await phase('ease', () =>
    fitWidePath(prep, counts, {
      lambda: config.easeLambda,
      sparseLambdas: numberList(config.sparseEaseLambdas, 'sparseEaseLambdas'),
      candidates: config.easeCandidates,
      denseMax: config.easeDenseMax,
      cacheDir: config.cache,
      progress,
      log,
    }),
  );
  await useBackend(config.backend, log);

  const trainedTeacher = await phase('teacher', async () => {
    const batches = profile.teacherEpochs * Math.ceil(prep.rows.length / profile.batchSize);
    const bar = teacherHidden.length > 0 ? progress('teacher deep path (batches)', batches) : null;
    let done = 0;
    const out = await obtainTeacher(
      config.cache,
      prep,
      wide.weights,
      {
        lambda: wide.lambda,
        hidden: teacherHidden,
        profile,
        seed: config.seed,
        wideKey: wide.weights.kind === 'sparse' ? `sparse-${wide.candidates}` : undefined,
        onBatch: bar ? () => bar.update(++done) : undefined,
      },
      log,
    );
    bar?.finish();
    return out;
  });
  const teacher = trainedTeacher.teacher;

  const distilled = await phase('student', () =>
    distilClosedForm({
      prep,
      counts,
      start: supportFromColumns(wide.weights, config.fanIn),
      teacherLogits: (histories) => teacher.logits(histories),
      lambdas: numberList(config.studentLambdas, 'studentLambdas'),
      shrinkTo: shrinkTargets(config.studentShrink),
      alphas: numberList(config.studentAlphas, 'studentAlphas'),
      temperature: options.temperature,
      linearTeacher: wide.weights,
      progress,
      log,
    }),
  );
  const structure = distilled.shipped === 'distilled' ? distilled.distilled : distilled.twin;
  const model = buildStudent(
    { name: 'student', kind: 'sparse', hidden: 0, structure, alpha: 1, temperature: 1, seed: 0 },
    items,
  );
  return {
    counts,
    wide,
    teacherHidden,
    trainedTeacher,
    distilled,
    structure,
    model,
    params: countParams(model),
  };
}
