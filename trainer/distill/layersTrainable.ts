import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Scorer } from '../eval/scorer.js';
import { multiHot } from './batches.js';
import type { Trainable } from './fit.js';

/** A LayersModel as the training loop's Trainable: logits = model(x). */
export function layersTrainable(model: tfl.LayersModel): Trainable {
  return {
    forward: (_batch, x) => model.apply(x, { training: true }) as tf.Tensor2D,
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
  };
}

/** Scores histories with a LayersModel (multi-hot input), for the evaluation harness. */
export function layersScorer(
  name: string,
  model: tfl.LayersModel,
  items: number,
  size: { params: number; bytes: number | null },
): Scorer {
  return {
    name,
    params: size.params,
    bytes: size.bytes,
    score(histories, out) {
      tf.tidy(() => {
        const x = tf.tensor2d(multiHot(histories, items), [histories.length, items]);
        out.set((model.predict(x) as tf.Tensor).dataSync());
      });
    },
  };
}
