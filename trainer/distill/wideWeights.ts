import type { SparseItemItem } from '../baselines/itemItem.js';
import { topK } from '../eval/topK.js';
import type { FanInStructure } from './structure.js';

/**
 * An item-to-item weight matrix W (row i: book i's weights towards every book j) as the teacher's wide
 * path holds it: dense n x n where that fits (EASE's closed form, up to ~16k books), or sparse rows and
 * columns (per-book EASE on candidate supports, beyond). Scores of a history are the sum of its rows.
 */
export type ItemWeights =
  | { kind: 'dense'; n: number; values: Float32Array }
  | { kind: 'sparse'; n: number; rows: SparseItemItem; columns: SparseItemItem };

export function denseWeights(values: Float32Array, n: number): ItemWeights {
  return { kind: 'dense', n, values };
}

/** Stored weights: n(n - 1) for a dense matrix (its zero diagonal is not stored knowledge), else the non-zeros. */
export function weightCount(w: ItemWeights): number {
  return w.kind === 'dense' ? w.n * (w.n - 1) : w.rows.values.length;
}

/** out[j] += W[i, j] for every i in the history (out is one row of n scores). */
export function addHistory(w: ItemWeights, history: ArrayLike<number>, out: Float32Array): void {
  const n = w.n;
  if (w.kind === 'dense') {
    const v = w.values;
    for (let h = 0; h < history.length; h++) {
      const from = history[h] * n;
      for (let j = 0; j < n; j++) out[j] += v[from + j];
    }
    return;
  }
  const { indptr, indices, values } = w.rows;
  for (let h = 0; h < history.length; h++) {
    const i = history[h];
    for (let e = indptr[i]; e < indptr[i + 1]; e++) out[indices[e]] += values[e];
  }
}

/**
 * The student's support cut from the teacher's weights: for every book j, the fanIn books i with the
 * largest W[i, j] (j itself excluded), and those weights. A column with fewer candidates is padded with
 * the next books by index and weight 0 (the refit then decides their weights from the data).
 */
export function supportFromColumns(w: ItemWeights, fanIn: number): FanInStructure {
  const n = w.n;
  const sources = new Float32Array(n * fanIn);
  const weights = new Float32Array(n * fanIn);
  const column = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let ids: ArrayLike<number>;
    let vals: Float32Array;
    if (w.kind === 'dense') {
      for (let i = 0; i < n; i++) column[i] = w.values[i * n + j];
      ids = { length: n } as ArrayLike<number>;
      vals = column;
    } else {
      const from = w.columns.indptr[j];
      const to = w.columns.indptr[j + 1];
      ids = w.columns.indices.subarray(from, to);
      vals = w.columns.values.subarray(from, to);
    }
    const dense = w.kind === 'dense';
    const self = dense
      ? [j]
      : Array.from(ids as Int32Array, (id, p) => (id === j ? p : -1)).filter((p) => p >= 0);
    const best = topK(vals, fanIn, self);
    const taken = new Set<number>();
    for (let r = 0; r < best.length; r++) {
      const i = dense ? best[r] : (ids as Int32Array)[best[r]];
      sources[j * fanIn + r] = i;
      weights[j * fanIn + r] = vals[best[r]];
      taken.add(i);
    }
    let next = j + 1;
    for (let r = best.length; r < fanIn; r++) {
      while (next % n === j || taken.has(next % n)) next++;
      sources[j * fanIn + r] = next % n;
      taken.add(next % n);
      weights[j * fanIn + r] = 0;
    }
  }
  return { fanIn, sources, weights };
}
