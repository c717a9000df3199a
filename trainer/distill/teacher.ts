import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Scorer } from '../eval/scorer.js';
import { type Batch, multiHot } from './batches.js';
import type { Trainable } from './fit.js';
import { countParams } from './models.js';
import { addHistory, denseWeights, type ItemWeights, weightCount } from './wideWeights.js';

/**
 * The teacher: a wide-and-deep network. The wide path is a linear item-to-item layer (n x n) holding the
 * EASE weights, fitted in closed form (it is the exact optimum of its own least-squares problem, which
 * SGD on 100M weights would approach only after hours here) and then frozen. The deep path is a
 * denoising autoencoder (items -> hidden tanh layers -> items) trained by backpropagation on top of it,
 * together with the wide path's scale, under the multinomial likelihood:
 *   logits = scale * (x B) + deep(x) + bias.
 * The scale turns EASE scores (not logits) into a calibrated distribution, which distillation needs.
 * The wide path runs as sparse row sums in JS: a history holds tens of books, so x B costs
 * |history| x n instead of the n x n of a dense matmul. Beyond ~16k books the wide path is the sparse
 * per-book EASE (wideWeights.ts) and there is usually no deep path (its n x hidden layers would cost more
 * time than the budget has; `--teacher-hidden`).
 */
export class WideDeepTeacher {
  readonly deep: tfl.LayersModel | null;
  readonly scale: tf.Variable;
  readonly wide: ItemWeights;

  constructor(
    readonly items: number,
    wideWeights: Float32Array | ItemWeights,
    readonly hidden: number[],
    seed: number,
  ) {
    this.wide = wideWeights instanceof Float32Array ? denseWeights(wideWeights, items) : wideWeights;
    this.scale = tf.variable(tf.scalar(10), true, 'teacher-wide-scale');
    if (hidden.length === 0) {
      this.deep = null;
      return;
    }
    const input = tfl.input({ shape: [items], name: 'history' });
    let h: tfl.SymbolicTensor = input;
    hidden.forEach((units, k) => {
      h = tfl.layers
        .dense({
          units,
          activation: 'tanh',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + k }),
          name: `deep${k}`,
        })
        .apply(h) as tfl.SymbolicTensor;
    });
    // Zero output weights: training starts from the wide path alone and learns the residual.
    const out = tfl.layers
      .dense({ units: items, kernelInitializer: tfl.initializers.zeros(), name: 'deepOut' })
      .apply(h) as tfl.SymbolicTensor;
    this.deep = tfl.model({ inputs: input, outputs: out, name: 'teacher-deep' });
  }

  /** Wide weights (n(n - 1) dense, else the stored ones) + deep weights + the scale. */
  get params(): number {
    return weightCount(this.wide) + (this.deep ? countParams(this.deep) : 0) + 1;
  }

  /** x B for each history, row-major histories.length x items. */
  wideScores(histories: Int32Array[]): Float32Array {
    const n = this.items;
    const out = new Float32Array(histories.length * n);
    for (let b = 0; b < histories.length; b++)
      addHistory(this.wide, histories[b], out.subarray(b * n, (b + 1) * n));
    return out;
  }

  private combine(x: tf.Tensor2D, wide: Float32Array, training: boolean): tf.Tensor2D {
    const scaled = tf.mul(this.scale, tf.tensor2d(wide, x.shape)) as tf.Tensor2D;
    // Without hidden layers there is no deep path: the wide path alone (used to study its share).
    if (!this.deep) return scaled;
    return tf.add(this.deep.apply(x, { training }) as tf.Tensor2D, scaled);
  }

  /**
   * Sets the wide path's scale to the value with the best multinomial likelihood of the batch's targets
   * (a 1-D search over a log grid). Done before the deep path trains, so that it learns a residual on
   * top of a calibrated wide path instead of compensating for a badly scaled one.
   */
  calibrateScale(batch: Batch, grid = [1, 2, 4, 8, 16, 32, 64, 128]): { scale: number; nll: number[] } {
    const n = this.items;
    const wide = this.wideScores(batch.kept);
    const nll = grid.map((scale) => {
      let total = 0;
      for (let b = 0; b < batch.size; b++) {
        const row = wide.subarray(b * n, (b + 1) * n);
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) max = Math.max(max, scale * row[j]);
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(scale * row[j] - max);
        const lse = max + Math.log(sum);
        for (let j = 0; j < n; j++) if (batch.target[b * n + j] > 0) total += lse - scale * row[j];
      }
      return total / batch.size;
    });
    const best = grid[nll.indexOf(Math.min(...nll))];
    tf.tidy(() => this.scale.assign(tf.scalar(best)));
    return { scale: best, nll };
  }

  trainable(): Trainable {
    return {
      forward: (batch, x) => this.combine(x, this.wideScores(batch.kept), true),
      variables: [...(this.deep?.trainableWeights ?? []).map((w) => w.read() as tf.Variable), this.scale],
    };
  }

  /** Teacher logits for histories (row-major), the soft targets of distillation. */
  logits(histories: Int32Array[]): Float32Array {
    const wide = this.wideScores(histories);
    if (!this.deep) {
      // The wide path alone: scale it here, without a round trip through tfjs.
      const scale = this.scale.dataSync()[0];
      for (let i = 0; i < wide.length; i++) wide[i] *= scale;
      return wide;
    }
    // The tensor leaves tidy, not its data: tidy walks a returned array element by element looking for
    // tensors, which costs seconds for a batch of 2.5M scores.
    const logits = tf.tidy(() => {
      const x = tf.tensor2d(multiHot(histories, this.items), [histories.length, this.items]);
      return this.combine(x, wide, false);
    });
    const data = logits.dataSync() as Float32Array;
    logits.dispose();
    return data;
  }

  scorer(name = 'teacher'): Scorer {
    return {
      name,
      params: this.params,
      bytes: null,
      score: (histories, out) => out.set(this.logits(histories)),
    };
  }

  dispose(): void {
    this.deep?.dispose();
    this.scale.dispose();
  }
}
