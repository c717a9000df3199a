import { BookrecError } from '../../common/errors.js';
import type { Scorer } from '../eval/scorer.js';
import { topK } from '../eval/topK.js';

/**
 * Item-to-item models (ItemKNN, EASE, their pruned forms) share one shape: a weight matrix W whose row i
 * holds item i's weights towards every item j, and a user's scores are the sum of the rows of the items
 * in their history, s_j = sum_{i in history} W[i, j].
 */

/** A sparse item-item matrix in CSR: row i keeps item i's largest weights, columns ascending. */
export interface SparseItemItem {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * Keeps the k largest weights of each row of a dense n x n matrix (ties towards the lower column, as in
 * the rankings); exact zeros are dropped, since they carry nothing and would only take space.
 */
export function pruneRows(dense: Float32Array, n: number, k: number): SparseItemItem {
  if (!Number.isInteger(k) || k < 1)
    throw new BookrecError('BAD_ARGUMENT', `k must be a positive integer, got ${k}`);
  checkDense(dense, n);
  const width = Math.min(k, n);
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * width);
  const values = new Float32Array(n * width);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const row = dense.subarray(i * n, (i + 1) * n);
    for (const j of topK(row, width).sort()) {
      if (row[j] === 0) continue;
      indices[nnz] = j;
      values[nnz] = row[j];
      nnz++;
    }
    indptr[i + 1] = nnz;
  }
  return { n, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

/** Keeps the k largest weights of each row of a sparse matrix (ties towards the lower column); zeros dropped. */
export function pruneSparseRows(m: SparseItemItem, k: number): SparseItemItem {
  if (!Number.isInteger(k) || k < 1)
    throw new BookrecError('BAD_ARGUMENT', `k must be a positive integer, got ${k}`);
  const { n } = m;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(Math.min(m.indices.length, n * k));
  const values = new Float32Array(indices.length);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const from = m.indptr[i];
    const row = m.values.subarray(from, m.indptr[i + 1]);
    const kept = Array.from(topK(row, Math.min(k, row.length)))
      .filter((e) => row[e] !== 0)
      .sort((a, b) => m.indices[from + a] - m.indices[from + b]);
    for (const e of kept) {
      indices[nnz] = m.indices[from + e];
      values[nnz++] = row[e];
    }
    indptr[i + 1] = nnz;
  }
  return { n, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

/** Scores with a dense weight matrix (params: all n^2 weights). */
export function denseItemItemScorer(name: string, weights: Float32Array, n: number): Scorer {
  checkDense(weights, n);
  return {
    name,
    params: n * n,
    bytes: null,
    score(histories, out) {
      for (let b = 0; b < histories.length; b++) {
        const scores = out.subarray(b * n, (b + 1) * n);
        scores.fill(0);
        for (const item of histories[b]) addRow(scores, weights, item * n, n);
      }
    },
  };
}

/** Scores with a sparse weight matrix (params: the kept weights). */
export function sparseItemItemScorer(name: string, w: SparseItemItem): Scorer {
  const { n, indptr, indices, values } = w;
  return {
    name,
    params: values.length,
    bytes: null,
    score(histories, out) {
      for (let b = 0; b < histories.length; b++) {
        const base = b * n;
        out.fill(0, base, base + n);
        for (const item of histories[b]) {
          for (let p = indptr[item]; p < indptr[item + 1]; p++) out[base + indices[p]] += values[p];
        }
      }
    },
  };
}

/** scores += weights[offset .. offset + n), unrolled by 4: the scoring loop of every dense model. */
function addRow(scores: Float32Array, weights: Float32Array, offset: number, n: number): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    scores[j] += weights[offset + j];
    scores[j + 1] += weights[offset + j + 1];
    scores[j + 2] += weights[offset + j + 2];
    scores[j + 3] += weights[offset + j + 3];
  }
  for (; j < n; j++) scores[j] += weights[offset + j];
}

function checkDense(dense: ArrayLike<number>, n: number): void {
  if (dense.length !== n * n) {
    throw new BookrecError('BAD_SHAPE', `expected a ${n}x${n} matrix (${n * n} values), got ${dense.length}`);
  }
}
