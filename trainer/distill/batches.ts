import type { Rng } from '../random.js';

/**
 * Training examples in the denoising-autoencoder style of Mult-DAE: the input is a listener's books with
 * each one dropped with probability 1 - keep, the target is all of their books. A model that learns to
 * refill what was dropped is what the speaker needs: recommend what the listener would read next.
 */
export interface Batch {
  size: number;
  /** Multi-hot corrupted input, row-major size x items. */
  input: Float32Array;
  /** The kept items of each row (the same input as a list), for sparse paths such as the teacher's. */
  kept: Int32Array[];
  /** Multi-hot targets, row-major size x items. */
  target: Float32Array;
}

/**
 * `targets`: 'all' books of the row (Mult-DAE), or only the 'dropped' ones, which asks a model to predict
 * books that are not in its input, exactly the task of the evaluation and of the speaker.
 */
export type TargetMode = 'all' | 'dropped';

export function makeBatch(
  rows: Int32Array[],
  items: number,
  keep: number,
  rng: Rng,
  targets: TargetMode = 'all',
): Batch {
  const size = rows.length;
  const input = new Float32Array(size * items);
  const target = new Float32Array(size * items);
  const kept: Int32Array[] = [];
  for (let b = 0; b < size; b++) {
    const row = rows[b];
    const mine: number[] = [];
    for (let k = 0; k < row.length; k++) {
      const kept = keep >= 1 || rng() < keep;
      if (kept) {
        input[b * items + row[k]] = 1;
        mine.push(row[k]);
      }
      if (!kept || targets === 'all') target[b * items + row[k]] = 1;
    }
    kept.push(Int32Array.from(mine));
  }
  return { size, input, kept, target };
}

/** Multi-hot input rows for scoring histories (no corruption). */
export function multiHot(histories: Int32Array[], items: number): Float32Array {
  const out = new Float32Array(histories.length * items);
  histories.forEach((h, b) => {
    for (const i of h) out[b * items + i] = 1;
  });
  return out;
}
