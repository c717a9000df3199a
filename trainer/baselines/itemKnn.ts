import { type Interactions, itemCount } from '../data/interactions.js';
import type { Scorer } from '../eval/scorer.js';
import { cooccurrenceInto } from './cooccurrence.js';
import { denseItemItemScorer, pruneRows, sparseItemItemScorer } from './itemItem.js';

/**
 * ItemKNN: cosine similarity between items over the training users' reads,
 *   S[i, j] = C[i, j] / sqrt(C[i, i] C[j, j])   (C = X^T X, the co-occurrence counts),
 * with a zero diagonal (an item in the history is no evidence for itself; it is masked anyway). An item
 * no training user read has an all-zero row and column. Dense n x n float32: 400 MB at n = 10k.
 */
export function cosineSimilarity(x: Interactions, trainUsers: Int32Array): Float32Array {
  const n = itemCount(x);
  const s = cooccurrenceInto(new Float32Array(n * n), x, trainUsers);
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = s[i * n + i];
    inv[i] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  for (let i = 0; i < n; i++) {
    const base = i * n;
    const a = inv[i];
    for (let j = 0; j < n; j++) s[base + j] *= a * inv[j];
    s[base + i] = 0;
  }
  return s;
}

export interface ItemKnnOptions {
  /** Neighbours kept per item (its largest similarities); 0 keeps all. */
  neighbours?: number;
}

/**
 * Scores a user by summing the similarity rows of their history. With a neighbour cap each history item
 * contributes only its `neighbours` most similar items, and the dense matrix is dropped after pruning.
 */
export function itemKnnScorer(x: Interactions, trainUsers: Int32Array, options: ItemKnnOptions = {}): Scorer {
  const n = itemCount(x);
  const k = options.neighbours ?? 0;
  const similarity = cosineSimilarity(x, trainUsers);
  if (k <= 0 || k >= n) return denseItemItemScorer('itemknn', similarity, n);
  return sparseItemItemScorer('itemknn', pruneRows(similarity, n, k));
}
