import type { Scorer } from '../eval/scorer.js';
import { topK } from '../eval/topK.js';

/**
 * The student's sparse structure, chosen from an item-to-item weight matrix (the teacher's wide path):
 * for every book j, the fanIn books i with the largest weights B[i, j], i.e. the books whose presence in
 * a history best predicts j. Choosing by column gives every output unit the same fan-in, which is what
 * the SparseFanIn layer stores (units x fanIn). Returns the sources and the matching weights, both
 * row-major units x fanIn, ready for SparseFanIn.setWeights([weights, sources]).
 */
export interface FanInStructure {
  fanIn: number;
  sources: Float32Array;
  weights: Float32Array;
}

export function fanInFromColumns(dense: Float32Array, n: number, fanIn: number): FanInStructure {
  const sources = new Float32Array(n * fanIn);
  const weights = new Float32Array(n * fanIn);
  const column = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) column[i] = dense[i * n + j];
    // A book never predicts itself: its own slot is excluded even when the diagonal is not zero.
    const best = topK(column, fanIn, [j]);
    for (let r = 0; r < fanIn; r++) {
      const i = r < best.length ? best[r] : (j + 1 + r) % n;
      sources[j * fanIn + r] = i;
      weights[j * fanIn + r] = r < best.length ? column[i] : 0;
    }
  }
  return { fanIn, sources, weights };
}

/**
 * The SparseFanIn layer's arithmetic in plain JS, y[j] = sum_r x[S_j[r]] * w[j, r], pushed from the
 * history's books: what the student computes, without tfjs, for the many evaluations of the refit.
 */
export function fanInScorer(name: string, structure: FanInStructure, n: number): Scorer {
  const { fanIn, sources, weights } = structure;
  const start = new Int32Array(n + 1);
  for (let s = 0; s < sources.length; s++) start[sources[s] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const target = new Int32Array(sources.length);
  const weight = new Float32Array(sources.length);
  for (let s = 0; s < sources.length; s++) {
    const at = fill[sources[s]]++;
    target[at] = (s / fanIn) | 0;
    weight[at] = weights[s];
  }
  return {
    name,
    params: n * fanIn,
    bytes: null,
    score(histories, out) {
      for (let b = 0; b < histories.length; b++) {
        const base = b * n;
        out.fill(0, base, base + n);
        for (const i of histories[b]) {
          for (let e = start[i]; e < start[i + 1]; e++) out[base + target[e]] += weight[e];
        }
      }
    },
  };
}
