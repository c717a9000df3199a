import { type Interactions, itemCount } from '../data/interactions.js';
import type { Scorer } from '../eval/scorer.js';
import { type SparseCounts, sparseCooccurrence } from './cooccurrence.js';
import { pruneSparseRows, type SparseItemItem, sparseItemItemScorer } from './itemItem.js';

/**
 * ItemKNN: cosine similarity between items over the training users' reads,
 *   S[i, j] = C[i, j] / sqrt(C[i, i] C[j, j])   (C = X^T X, the co-occurrence counts),
 * with a zero diagonal (an item in the history is no evidence for itself; it is masked anyway). An item
 * no training user read has an all-zero row and column. Sparse: only pairs read together are stored
 * (24M entries for goodbooks-10k, 23M for 82,629 amazon books, where a dense matrix would need 27 GB).
 */
export function cosineFromCounts(c: SparseCounts): SparseItemItem {
  const n = c.n;
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let e = c.indptr[i]; e < c.indptr[i + 1]; e++) {
      if (c.indices[e] === i) inv[i] = c.values[e] > 0 ? 1 / Math.sqrt(c.values[e]) : 0;
    }
  }
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(c.indices.length);
  const values = new Float32Array(c.values.length);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const a = inv[i];
    for (let e = c.indptr[i]; e < c.indptr[i + 1]; e++) {
      const j = c.indices[e];
      if (j === i) continue;
      indices[nnz] = j;
      // The same float32 rounding as the dense form: the count times the float64 product of the norms.
      values[nnz++] = Math.fround(c.values[e] * (a * inv[j]));
    }
    indptr[i + 1] = nnz;
  }
  return { n, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

export function cosineSimilarity(x: Interactions, trainUsers: Int32Array): SparseItemItem {
  return cosineFromCounts(sparseCooccurrence(x, trainUsers));
}

export interface ItemKnnOptions {
  /** Neighbours kept per item (its largest similarities); 0 keeps all. */
  neighbours?: number;
  /** The training users' co-occurrence counts, when the caller has them already. */
  counts?: SparseCounts;
}

/**
 * Scores a user by summing the similarity rows of their history. With a neighbour cap each history item
 * contributes only its `neighbours` most similar items.
 */
export function itemKnnScorer(x: Interactions, trainUsers: Int32Array, options: ItemKnnOptions = {}): Scorer {
  const n = itemCount(x);
  const k = options.neighbours ?? 0;
  const similarity = cosineFromCounts(options.counts ?? sparseCooccurrence(x, trainUsers));
  if (k <= 0 || k >= n) return sparseItemItemScorer('itemknn', similarity);
  return sparseItemItemScorer('itemknn', pruneSparseRows(similarity, k));
}
