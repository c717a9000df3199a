import { countAt, type SparseCounts } from '../baselines/cooccurrence.js';
import { solveSpdInPlace } from '../linalg/cholesky.js';
import type { FanInStructure } from './structure.js';
import type { ItemWeights } from './wideWeights.js';

/**
 * The shipped student's training, in closed form (docs/distillation.md). Its structure is fixed: book j
 * is scored from K source books S_j. Its K weights are the ridge regression of a target column onto the
 * sources' columns over the training users:
 *   w_j = (X_S^T X_S + lambda I)^-1 X_S^T y_j.
 * Hard targets (y_j = X_j, who read j) give X_S^T y_j = G[S_j, j] (G = X^T X, co-occurrence counts).
 * Soft targets keep the hard 1 where the reader read j and put the teacher's belief where they did not:
 * y_j[u] = m_u p_u(j), the teacher's softmax over the reader's unread books (temperature T) times the
 * number of books they read, so that soft and hard targets carry the same mass per reader. The blend
 * a * hard + (1 - a) * soft is the regression onto X_S^T (a * hard + (1 - a) * soft): see SoftMoment for
 * the two kinds of soft moment and how each enters. Every book is one K x K solve: cheap, exact, and the
 * same for every (a, lambda).
 */
export interface RefitProblem {
  n: number;
  fanIn: number;
  /** G[S_j, S_j] for every book j: n x K x K. */
  gram: Float32Array;
  /** G[S_j, j]: n x K. */
  hard: Float32Array;
}

export function refitProblem(counts: SparseCounts, structure: FanInStructure): RefitProblem {
  const n = counts.n;
  const k = structure.fanIn;
  const gram = new Float32Array(n * k * k);
  const hard = new Float32Array(n * k);
  const src = structure.sources;
  for (let j = 0; j < n; j++) {
    const base = j * k;
    for (let p = 0; p < k; p++) {
      const sp = src[base + p];
      hard[base + p] = countAt(counts, sp, j);
      for (let q = 0; q <= p; q++) {
        const v = countAt(counts, sp, src[base + q]);
        gram[(base + p) * k + q] = v;
        gram[(base + q) * k + p] = v;
      }
    }
  }
  return { n, fanIn: k, gram, hard };
}

/**
 * The soft targets' moment M (n x K, M[j, r] = the soft targets of j summed over the readers of S_j[r]),
 * and which part of the soft target it holds, because that decides how the blend is formed:
 * - `unread` (the softmax kind): the soft target is the hard 1 on the reader's own books plus the
 *   teacher's belief on the unread ones, and M sums only the unread part. Then soft = hard + M and the
 *   blend's moment is a * G[S_j, j] + (1 - a) * (G[S_j, j] + M[j]) = G[S_j, j] + (1 - a) * M[j].
 * - `all` (the scores kind): the soft target is the teacher's own value on every book, read or not, and
 *   M is its whole moment. Then the blend's moment is a * G[S_j, j] + (1 - a) * M[j].
 * Keeping the kind beside the numbers means no caller can blend a moment the wrong way.
 */
export interface SoftMoment {
  covers: 'unread' | 'all';
  moment: Float64Array;
}

/**
 * Weights of the refit student for one (a, lambda): n x K, row-major like the structure's. `soft` is
 * the soft moment (null or a = 1: hard targets only).
 */
export function refitWeights(
  problem: RefitProblem,
  soft: SoftMoment | null,
  alpha: number,
  lambda: number,
  /**
   * Extra ridge in proportion to each source's own count, kappa * diag(G_SS): the closed form of
   * training with input dropout at rate kappa / (1 + kappa) (Steck 2020, EDLAE), which shrinks the
   * weights of popular sources more.
   */
  kappa = 0,
  /** Shrink towards these weights instead of towards zero (n x K; the student's start). */
  prior?: Float32Array,
): Float32Array {
  const { n, fanIn: k, gram, hard } = problem;
  const out = new Float32Array(n * k);
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  const softShare = soft && alpha < 1 ? 1 - alpha : 0;
  const softMoment = softShare > 0 && soft ? soft.moment : null;
  const hardShare = softMoment && soft?.covers === 'all' ? alpha : 1;
  for (let j = 0; j < n; j++) {
    const base = j * k;
    for (let p = 0; p < k * k; p++) a[p] = gram[base * k + p];
    for (let p = 0; p < k; p++) {
      a[p * k + p] += lambda + kappa * gram[(base + p) * k + p];
      b[p] =
        hardShare * hard[base + p] +
        (softMoment ? softShare * softMoment[base + p] : 0) +
        (prior ? lambda * prior[base + p] : 0);
    }
    solveSpdInPlace(a, k, b);
    for (let p = 0; p < k; p++) out[base + p] = b[p];
  }
  return out;
}

/** For each source book i, the flat slots j * K + r with S_j[r] = i (the structure inverted). */
export function slotsBySource(structure: FanInStructure, n: number): { start: Int32Array; slot: Int32Array } {
  const { sources } = structure;
  const start = new Int32Array(n + 1);
  for (let s = 0; s < sources.length; s++) start[sources[s] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const slot = new Int32Array(sources.length);
  for (let s = 0; s < sources.length; s++) slot[fill[sources[s]]++] = s;
  return { start, slot };
}

export interface SoftMomentOptions {
  temperature: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The soft moment M of the class comment: one pass over the training users' full rows, the teacher's
 * logits for each batch (`teacherLogits`, row-major batch x n), softmax at temperature T over each
 * reader's unread books, scaled to the reader's number of books.
 */
export async function softMoments(
  rows: Int32Array[],
  structure: FanInStructure,
  n: number,
  teacherLogits: (histories: Int32Array[]) => Float32Array | Promise<Float32Array>,
  options: SoftMomentOptions,
): Promise<SoftMoment> {
  const k = structure.fanIn;
  const moments = new Float64Array(n * k);
  const { start, slot } = slotsBySource(structure, n);
  const read = new Uint8Array(n);
  const prob = new Float64Array(n);
  const batchSize = options.batchSize ?? 256;
  const t = options.temperature;
  for (let from = 0; from < rows.length; from += batchSize) {
    const batch = rows.slice(from, from + batchSize);
    const logits = await teacherLogits(batch);
    batch.forEach((row, b) => {
      if (row.length === 0) return;
      const l = logits.subarray(b * n, (b + 1) * n);
      for (const i of row) read[i] = 1;
      // Most of a sparse teacher's scores are exactly 0 (books linked to nothing in the history): their
      // shared exp is computed once, which makes the pass over an 82k catalogue cheap.
      let max = Number.NEGATIVE_INFINITY;
      let zeros = 0;
      for (let j = 0; j < n; j++) {
        if (read[j]) continue;
        if (l[j] === 0) zeros++;
        else if (l[j] / t > max) max = l[j] / t;
      }
      if (zeros > 0 && max < 0) max = 0;
      const shared = Math.exp(-max);
      let sum = zeros > 0 ? zeros * shared : 0;
      for (let j = 0; j < n; j++) {
        if (read[j]) {
          prob[j] = 0;
        } else if (l[j] === 0) {
          prob[j] = shared;
        } else {
          const e = Math.exp(l[j] / t - max);
          prob[j] = e;
          sum += e;
        }
      }
      const mass = sum > 0 && Number.isFinite(sum) ? row.length / sum : 0;
      for (const i of row) {
        for (let e = start[i]; e < start[i + 1]; e++) {
          const s = slot[e];
          const j = (s / k) | 0;
          if (!read[j]) moments[s] += prob[j] * mass;
        }
      }
      for (const i of row) read[i] = 0;
    });
    options.onProgress?.(Math.min(from + batchSize, rows.length), rows.length);
  }
  return { covers: 'unread', moment: moments };
}

/**
 * The soft moment for a linear teacher whose soft targets are its own scores over every training user
 * and book, y_j = X B[:, j] (no softmax, the data's scale): X_S^T X B[:, j] = G[S_j, :] B[:, j], read off
 * the co-occurrence without a pass over the users. It covers the reader's own books too (`all`), so
 * the blend scales the hard part by a. With a = 0 the refit is then the best K-sparse approximation of
 * the teacher's scores in the data's own metric.
 */
export function linearSoftMoments(
  counts: SparseCounts,
  structure: FanInStructure,
  teacher: ItemWeights,
): SoftMoment {
  const n = counts.n;
  const k = structure.fanIn;
  const moments = new Float64Array(n * k);
  const column = new Float64Array(n);
  const support: number[] = [];
  for (let j = 0; j < n; j++) {
    support.length = 0;
    if (teacher.kind === 'dense') {
      for (let c = 0; c < n; c++) {
        const v = teacher.values[c * n + j];
        if (v !== 0) {
          column[c] = v;
          support.push(c);
        }
      }
    } else {
      const cols = teacher.columns;
      for (let e = cols.indptr[j]; e < cols.indptr[j + 1]; e++) {
        column[cols.indices[e]] = cols.values[e];
        support.push(cols.indices[e]);
      }
    }
    for (let r = 0; r < k; r++) {
      const s = structure.sources[j * k + r];
      const from = counts.indptr[s];
      const to = counts.indptr[s + 1];
      let sum = 0;
      if (to - from <= 4 * support.length) {
        for (let e = from; e < to; e++) sum += counts.values[e] * column[counts.indices[e]];
      } else {
        for (const c of support) sum += countAt(counts, s, c) * column[c];
      }
      moments[j * k + r] = sum;
    }
    for (const c of support) column[c] = 0;
  }
  return { covers: 'all', moment: moments };
}
