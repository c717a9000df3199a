import * as tf from '@tensorflow/tfjs-core';
import { mulberry32, shuffle } from '../random.js';
import { type Batch, makeBatch, type TargetMode } from './batches.js';
import { kdLoss } from './kdLoss.js';

/** A model as the training loop sees it: logits for a batch, and the variables it learns. */
export interface Trainable {
  forward(batch: Batch, x: tf.Tensor2D): tf.Tensor2D;
  variables: tf.Variable[];
}

export interface Distillation {
  /** Teacher logits for the batch's (corrupted) input, row-major batch x items. */
  teacher: (batch: Batch) => Float32Array;
  alpha: number;
  temperature: number;
}

export interface EpochInfo {
  epoch: number;
  loss: number;
  /** Validation NDCG@10 after the epoch. */
  validation: number;
  seconds: number;
}

export interface FitOptions {
  items: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Probability that an input book is kept (Mult-DAE input dropout). */
  keep: number;
  /** Which books are the targets: all of the row, or only those dropped from the input. */
  targets?: TargetMode;
  seed: number;
  /** Stop after this many epochs without a better validation score. */
  patience: number;
  kd?: Distillation;
  validate: () => Promise<number>;
  onEpoch?: (info: EpochInfo) => void;
  /** Batches done in the current epoch, of how many. */
  onBatch?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface FitResult {
  history: EpochInfo[];
  bestEpoch: number;
  bestValidation: number;
}

/**
 * Adam on the KD loss (alpha = 1 when there is no teacher), with early stopping on validation NDCG@10:
 * the best epoch's weights are restored at the end. Every tensor lives inside tf.tidy.
 */
export async function fit(model: Trainable, rows: Int32Array[], options: FitOptions): Promise<FitResult> {
  const rng = mulberry32(options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  const order = Int32Array.from(rows.keys());
  const history: EpochInfo[] = [];
  let best = Number.NEGATIVE_INFINITY;
  let bestEpoch = -1;
  let bestWeights: Float32Array[] | undefined;
  const alpha = options.kd?.alpha ?? 1;
  const temperature = options.kd?.temperature ?? 1;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const started = performance.now();
      shuffle(order, rng);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < order.length; start += options.batchSize) {
        if (options.signal?.aborted) throw options.signal.reason;
        const picked = Array.from(order.subarray(start, start + options.batchSize), (u) => rows[u]);
        const batch = makeBatch(picked, options.items, options.keep, rng, options.targets);
        const teacher = options.kd && alpha < 1 ? options.kd.teacher(batch) : null;
        const loss = tf.tidy(() => {
          const shape: [number, number] = [batch.size, options.items];
          const x = tf.tensor2d(batch.input, shape);
          const y = tf.tensor2d(batch.target, shape);
          const t = teacher ? tf.tensor2d(teacher, shape) : null;
          return optimizer.minimize(
            () => kdLoss(model.forward(batch, x), t, y, { alpha, temperature }),
            true,
            model.variables,
          ) as tf.Scalar;
        });
        lossSum += (await loss.data())[0];
        loss.dispose();
        batches++;
        options.onBatch?.(batches, Math.ceil(order.length / options.batchSize));
      }
      const validation = await options.validate();
      const info = {
        epoch,
        loss: lossSum / Math.max(1, batches),
        validation,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(info);
      options.onEpoch?.(info);
      if (validation > best) {
        best = validation;
        bestEpoch = epoch;
        bestWeights = model.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
      } else if (epoch - bestEpoch >= options.patience) {
        break;
      }
    }
  } finally {
    optimizer.dispose();
  }
  if (bestWeights) {
    const saved = bestWeights;
    model.variables.forEach((v, i) => {
      tf.tidy(() => v.assign(tf.tensor(saved[i], v.shape)));
    });
  }
  return { history, bestEpoch, bestValidation: best };
}
