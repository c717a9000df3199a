import { BookrecError } from '../../common/errors.js';
import { solveSpdInPlace } from '../linalg/cholesky.js';
import { countAt, type SparseCounts } from './cooccurrence.js';
import { grown } from './grow.js';
import type { SparseItemItem } from './itemItem.js';

/**
 * EASE for catalogues where the dense n x n inverse does not fit (docs/distillation.md). Column j of
 * EASE is the ridge regression of book j's readers on every other book's,
 *   B[:, j] = (G_{-j,-j} + lambda I)^-1 G_{-j, j}     (G = X^T X),
 * which is what the closed form B = I - P diag(1/diag P) computes for all columns at once. Here each
 * column is solved on its own, restricted to a candidate support: the `candidates` books read most often
 * together with j (from the sparse co-occurrence). A book never read with j has G[i, j] = 0 and only
 * enters through the other candidates, so on real data the restriction loses little; with every
 * co-occurring book as a candidate it is exact EASE on them (tested against the dense solve).
 * Cost: one candidates^2 Gram gather and one Cholesky per book, memory n x candidates weights.
 */
export interface SparseEaseOptions {
  lambda: number;
  /** Books in each column's support (the most co-read ones). */
  candidates: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SparseEase {
  /** Rows by source book (i -> j weights), for scoring: s_j = sum over the history of W[i, j]. */
  rows: SparseItemItem;
  /** Columns by target book (j <- i weights), the same weights: what the student's support is cut from. */
  columns: SparseItemItem;
}

export function fitSparseEase(c: SparseCounts, options: SparseEaseOptions): SparseEase {
  const { lambda, candidates } = options;
  if (!(lambda > 0)) throw new BookrecError('BAD_ARGUMENT', `EASE lambda must be positive, got ${lambda}`);
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw new BookrecError('BAD_ARGUMENT', `EASE candidates must be a positive integer, got ${candidates}`);
  }
  const n = c.n;
  const colPtr = new Int32Array(n + 1);
  let colIdx = new Int32Array(n * Math.min(candidates, 64));
  let colVal = new Float32Array(colIdx.length);
  let nnz = 0;
  const pos = new Int32Array(n).fill(-1);
  const a = new Float64Array(candidates * candidates);
  const b = new Float64Array(candidates);
  for (let j = 0; j < n; j++) {
    const support = topCoRead(c, j, candidates);
    const k = support.length;
    if (k > 0) {
      for (let p = 0; p < k; p++) pos[support[p]] = p;
      const gram = a.subarray(0, k * k);
      gram.fill(0);
      const rhs = b.subarray(0, k);
      for (let p = 0; p < k; p++) gatherRow(c, support[p], pos, gram, p, k, support);
      for (let p = 0; p < k; p++) {
        rhs[p] = countAt(c, support[p], j);
        gram[p * k + p] += lambda;
      }
      solveSpdInPlace(gram, k, rhs);
      for (let p = 0; p < k; p++) pos[support[p]] = -1;
      colIdx = grown(colIdx, nnz, nnz + k);
      colVal = grown(colVal, nnz, nnz + k);
      const order = Int32Array.from(support.keys()).sort((x, y) => support[x] - support[y]);
      for (const p of order) {
        colIdx[nnz] = support[p];
        colVal[nnz++] = rhs[p];
      }
    }
    colPtr[j + 1] = nnz;
    if ((j & 255) === 255) options.onProgress?.(j + 1, n);
  }
  options.onProgress?.(n, n);
  const columns: SparseItemItem = {
    n,
    indptr: colPtr,
    indices: colIdx.slice(0, nnz),
    values: colVal.slice(0, nnz),
  };
  return { rows: transpose(columns), columns };
}

/** The `k` books most often read together with j (j excluded), by count, ties to the lower index. */
export function topCoRead(c: SparseCounts, j: number, k: number): Int32Array {
  const from = c.indptr[j];
  const to = c.indptr[j + 1];
  const others: number[] = [];
  for (let p = from; p < to; p++) if (c.indices[p] !== j) others.push(p);
  if (others.length > k) {
    others.sort((x, y) => c.values[y] - c.values[x] || c.indices[x] - c.indices[y]);
    others.length = k;
  }
  return Int32Array.from(others, (p) => c.indices[p]);
}

/**
 * gram[p, q] = G[support[p], support[q]] for every q: walks row support[p] when it is short, else looks
 * each candidate up by binary search (a popular book co-occurs with thousands of others).
 */
function gatherRow(
  c: SparseCounts,
  i: number,
  pos: Int32Array,
  gram: Float64Array,
  p: number,
  k: number,
  support: Int32Array,
): void {
  const from = c.indptr[i];
  const to = c.indptr[i + 1];
  const base = p * k;
  if (to - from <= 8 * k) {
    for (let e = from; e < to; e++) {
      const q = pos[c.indices[e]];
      if (q >= 0) gram[base + q] = c.values[e];
    }
    return;
  }
  for (let q = 0; q < k; q++) gram[base + q] = countAt(c, i, support[q]);
}

/** The transpose of a sparse matrix in CSR (columns ascending in each row). */
export function transpose(m: SparseItemItem): SparseItemItem {
  const { n, indptr, indices, values } = m;
  const ptr = new Int32Array(n + 1);
  for (let e = 0; e < indices.length; e++) ptr[indices[e] + 1]++;
  for (let i = 0; i < n; i++) ptr[i + 1] += ptr[i];
  const fill = ptr.slice(0, n);
  const outIdx = new Int32Array(indices.length);
  const outVal = new Float32Array(indices.length);
  for (let row = 0; row < n; row++) {
    for (let e = indptr[row]; e < indptr[row + 1]; e++) {
      const at = fill[indices[e]]++;
      outIdx[at] = row;
      outVal[at] = values[e];
    }
  }
  return { n, indptr: ptr, indices: outIdx, values: outVal };
}
