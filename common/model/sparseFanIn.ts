import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type EdgeIndex, invertSources } from './fanInIndex.js';

/**
 * A dense layer pruned to a fixed fan-in: output unit j sums `fanIn` chosen inputs,
 * y[b, j] = sum_r x[b, sources[j, r]] * weights[j, r]. It holds an item-to-item model (each book scored
 * from the few books that predict it best) in units * fanIn weights instead of units * inputs.
 *
 * Computed in "push" form over the non-zero inputs (a listener's history has tens of books out of
 * thousands): a host-side scan of x, then one gather and one scatter. The gradient with respect to the
 * weights is a scatter too, written by hand, because tfjs's stock Gather gradient needs
 * UnsortedSegmentSum (missing on wasm, O(vocab x tokens) on cpu). Needs a host-resident backend (cpu, wasm,
 * tensorflow), which is every backend this project uses.
 */
export interface SparseFanInConfig {
  units: number;
  fanIn: number;
  name?: string;
  trainable?: boolean;
}

export class SparseFanIn extends tfl.layers.Layer {
  static className = 'SparseFanIn';
  readonly units: number;
  readonly fanIn: number;
  private weightsVar?: tfl.LayerVariable;
  private sourcesVar?: tfl.LayerVariable;
  private edges?: { version: object; index: EdgeIndex };

  constructor(config: SparseFanInConfig) {
    super({ name: config.name, trainable: config.trainable ?? true });
    this.units = config.units;
    this.fanIn = config.fanIn;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const inputs = shape[shape.length - 1];
    if (inputs === null || inputs === undefined) throw new Error('SparseFanIn needs a known input width');
    this.weightsVar = this.addWeight(
      'weights',
      [this.units, this.fanIn],
      'float32',
      tfl.initializers.zeros(),
    );
    // Sources are stored as float32 (exact below 2^24) so they travel in the standard weight manifest;
    // they are chosen before training (from the teacher) and never trained.
    this.sourcesVar = this.addWeight(
      'sources',
      [this.units, this.fanIn],
      'float32',
      tfl.initializers.zeros(),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
    return sparseFanInApply(x, this.weightsVar!.read(), this.edgeIndex(x.shape[1]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, fanIn: this.fanIn };
  }

  /**
   * The inverted source table, rebuilt only when the sources change (setWeights or loading assigns the
   * variable new data, which gives it a new dataId: identity is the cheap change check).
   */
  private edgeIndex(inputs: number): EdgeIndex {
    const sources = this.sourcesVar!.read();
    if (this.edges && this.edges.version === sources.dataId) return this.edges.index;
    const index = invertSources(sources.dataSync(), this.units, this.fanIn, inputs);
    this.edges = { version: sources.dataId, index };
    return index;
  }
}

/** y = SparseFanIn(x) with a scatter gradient for the weights; x gets no gradient (it is data). */
export function sparseFanInApply(x: tf.Tensor2D, weights: tf.Tensor, edges: EdgeIndex): tf.Tensor2D {
  const [batch, inputs] = x.shape;
  const units = weights.shape[0];
  const xs = x.dataSync();
  const rows: number[] = [];
  const slots: number[] = [];
  const scale: number[] = [];
  for (let b = 0; b < batch; b++) {
    const base = b * inputs;
    for (let i = 0; i < inputs; i++) {
      const v = xs[base + i];
      if (v === 0) continue;
      for (let e = edges.start[i]; e < edges.start[i + 1]; e++) {
        rows.push(b, edges.target[e]);
        slots.push(edges.slot[e]);
        scale.push(v);
      }
    }
  }
  if (slots.length === 0) return tf.zeros([batch, units]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const w = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const at = tf.tensor2d(Int32Array.from(rows), [slots.length, 2], 'int32');
    const slotIdx = tf.tensor1d(Int32Array.from(slots), 'int32');
    const xv = tf.tensor1d(Float32Array.from(scale));
    save([at, slotIdx, xv]);
    const values = tf.mul(tf.gather(tf.reshape(w, [-1]), slotIdx), xv);
    return {
      value: tf.scatterND(at, values, [batch, units]) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [a, s, v] = saved;
        const perSlot = tf.mul(tf.gatherND(dy, a), v);
        return tf.reshape(tf.scatterND(tf.reshape(s, [-1, 1]), perSlot, [w.size]), w.shape);
      },
    };
  });
  return op(weights) as tf.Tensor2D;
}

tf.serialization.registerClass(SparseFanIn);
