import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BookrecError } from '../errors.js';

/**
 * Scores a batch of encoded histories: row b of the result (items wide, at b * items) holds the model's
 * score for every catalogue item. One helper for the trainer's evaluation and the device, so both run the
 * model the same way; every tensor it makes is released before it returns.
 */
export function scoreWithModel(
  model: tfl.LayersModel,
  inputs: readonly Float32Array[],
  items: number,
): Float32Array {
  if (inputs.length === 0) return new Float32Array(0);
  const flat = new Float32Array(inputs.length * items);
  for (const [b, row] of inputs.entries()) {
    if (row.length !== items) {
      throw new BookrecError('MODEL_INPUT', `input ${b} has ${row.length} values, the model takes ${items}`);
    }
    flat.set(row, b * items);
  }
  const scores = tf.tidy(() => {
    const out = model.predict(tf.tensor2d(flat, [inputs.length, items]));
    if (Array.isArray(out)) throw new BookrecError('MODEL_INPUT', 'the model has more than one output');
    return out;
  });
  try {
    if (scores.shape.length !== 2 || scores.shape[1] !== items) {
      throw new BookrecError(
        'MODEL_INPUT',
        `the model outputs shape [${scores.shape}], expected [*, ${items}]`,
      );
    }
    // A copy: the backend's own buffer is not ours to hand out past dispose().
    return new Float32Array(scores.dataSync());
  } finally {
    scores.dispose();
  }
}
