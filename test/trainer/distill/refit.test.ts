import t from 'tap';
import { sparseCooccurrence } from '../../../trainer/baselines/cooccurrence.js';
import type { SparseItemItem } from '../../../trainer/baselines/itemItem.js';
import {
  linearSoftMoments,
  refitProblem,
  refitWeights,
  slotsBySource,
  softMoments,
} from '../../../trainer/distill/refit.js';
import { type FanInStructure, fanInScorer } from '../../../trainer/distill/structure.js';
import type { ItemWeights } from '../../../trainer/distill/wideWeights.js';
import { mulberry32 } from '../../../trainer/random.js';
import { interactionsFromRows, maxAbsDiff, randomRows } from '../../helpers/matrices.js';

const N = 12;
const K = 3;
const rows = randomRows(90, N, 0.35, 3);
const data = interactionsFromRows(rows, N);
const train = Int32Array.from({ length: 90 }, (_, u) => u);
// Book j is fed by j+1, j+2, j+3 (mod N).
const structure: FanInStructure = {
  fanIn: K,
  sources: Float32Array.from({ length: N * K }, (_, s) => (Math.floor(s / K) + 1 + (s % K)) % N),
  weights: new Float32Array(N * K),
};

/** Solves (A + lambda I) w = b directly (Gauss-Jordan on the augmented matrix). */
function ridge(x: number[][], y: number[], lambda: number): number[] {
  const k = x[0].length;
  const a = Array.from({ length: k }, (_, p) => [
    ...Array.from({ length: k }, (_, q) => x.reduce((s, r) => s + r[p] * r[q], 0) + (p === q ? lambda : 0)),
    x.reduce((s, r, u) => s + r[p] * y[u], 0),
  ]);
  for (let c = 0; c < k; c++) {
    const piv = a[c][c];
    for (let q = c; q <= k; q++) a[c][q] /= piv;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c];
      for (let q = c; q <= k; q++) a[r][q] -= f * a[c][q];
    }
  }
  return a.map((r) => r[k]);
}

/** The design of book j: one row per training user, the K source columns, and the hard target. */
function design(j: number): { x: number[][]; y: number[] } {
  const src = Array.from(structure.sources.subarray(j * K, (j + 1) * K));
  return {
    x: rows.map((r) => src.map((s) => (r.includes(s) ? 1 : 0))),
    y: rows.map((r) => (r.includes(j) ? 1 : 0)),
  };
}

/** A made-up teacher: logits that favour low book numbers, the same for everybody. */
const teacherLogits = (histories: Int32Array[]) => {
  const out = new Float32Array(histories.length * N);
  for (let b = 0; b < histories.length; b++) for (let j = 0; j < N; j++) out[b * N + j] = -0.3 * j;
  return out;
};

t.test('the hard refit equals a direct ridge solve of each book on its sources', async (t) => {
  const problem = refitProblem(sparseCooccurrence(data, train), structure);
  const w = refitWeights(problem, null, 1, 2);
  for (let j = 0; j < N; j++) {
    const { x, y } = design(j);
    t.ok(maxAbsDiff(w.subarray(j * K, (j + 1) * K), ridge(x, y, 2)) < 1e-5, `book ${j}`);
  }
});

t.test('soft targets: the moment and the blend equal the brute-force regression', async (t) => {
  const soft = await softMoments(
    rows.map((r) => Int32Array.from(r)),
    structure,
    N,
    teacherLogits,
    { temperature: 2, batchSize: 7 },
  );
  t.equal(soft.covers, 'unread', 'the softmax moment holds the unread books only');
  const problem = refitProblem(sparseCooccurrence(data, train), structure);
  for (const alpha of [0, 0.25, 0.5, 1]) {
    const w = refitWeights(problem, soft, alpha, 3);
    for (let j = 0; j < N; j++) {
      const { x } = design(j);
      // Soft target of reader u for book j: 1 when read, else m_u * softmax over the unread books at T = 2.
      const target = rows.map((r) => {
        if (r.includes(j)) return 1;
        const unread = Array.from({ length: N }, (_, i) => i).filter((i) => !r.includes(i));
        const z = unread.reduce((s, i) => s + Math.exp((-0.3 * i) / 2), 0);
        return (r.length * Math.exp((-0.3 * j) / 2)) / z;
      });
      const hard = rows.map((r) => (r.includes(j) ? 1 : 0));
      const blend = hard.map((h, u) => alpha * h + (1 - alpha) * target[u]);
      t.ok(maxAbsDiff(w.subarray(j * K, (j + 1) * K), ridge(x, blend, 3)) < 1e-4, `a = ${alpha}, book ${j}`);
    }
  }
  t.same(refitWeights(problem, soft, 1, 3), refitWeights(problem, null, 1, 3), 'a = 1 ignores the teacher');
});

t.test('slotsBySource inverts the structure; fanInScorer computes the layer', async (t) => {
  const { start, slot } = slotsBySource(structure, N);
  for (let i = 0; i < N; i++) {
    for (let e = start[i]; e < start[i + 1]; e++) t.equal(structure.sources[slot[e]], i);
  }
  t.equal(start[N], N * K);
  const weighted = { ...structure, weights: Float32Array.from({ length: N * K }, (_, s) => s + 1) };
  const out = new Float32Array(N);
  await fanInScorer('s', weighted, N).score([Int32Array.from([1, 2])], out);
  // Book 0 is fed by 1, 2, 3 with weights 1, 2, 3: a history {1, 2} scores 1 + 2.
  t.equal(out[0], 3);
  // Book 11 is fed by 0, 1, 2 (weights 34, 35, 36): 35 + 36.
  t.equal(out[11], 71);
});

/** A made-up linear teacher B (n x n, row-major, zero diagonal like EASE's), about half its weights 0. */
function linearTeacher(): Float32Array {
  const rng = mulberry32(9);
  return Float32Array.from({ length: N * N }, (_, e) => (e % (N + 1) === 0 || rng() < 0.5 ? 0 : rng() - 0.3));
}

t.test('scores as soft targets: the moment is X_S^T X B[:, j], for dense and sparse teachers', async (t) => {
  const counts = sparseCooccurrence(data, train);
  const dense = linearTeacher();
  const byColumn = denseToColumns(dense);
  const sparse: ItemWeights = { kind: 'sparse', n: N, rows: byColumn, columns: byColumn };
  const fromDenseTeacher = linearSoftMoments(counts, structure, { kind: 'dense', n: N, values: dense });
  const fromSparseTeacher = linearSoftMoments(counts, structure, { ...sparse, columns: byColumn });
  t.equal(fromDenseTeacher.covers, 'all', 'the scores moment holds every book, read or not');
  const fromDense = fromDenseTeacher.moment;
  const fromSparse = fromSparseTeacher.moment;
  for (let j = 0; j < N; j++) {
    for (let r = 0; r < K; r++) {
      const s = structure.sources[j * K + r];
      let expected = 0;
      for (const row of rows) {
        if (!row.includes(s)) continue;
        for (const c of row) expected += dense[c * N + j];
      }
      t.ok(Math.abs(fromDense[j * K + r] - expected) < 1e-4, `dense, book ${j} slot ${r}`);
      t.ok(Math.abs(fromSparse[j * K + r] - expected) < 1e-4, `sparse, book ${j} slot ${r}`);
    }
  }
});

t.test(
  'scores as soft targets: the refit equals a dense least-squares solve of a * hard + (1 - a) * XB',
  async (t) => {
    const dense = linearTeacher();
    const counts = sparseCooccurrence(data, train);
    const problem = refitProblem(counts, structure);
    const soft = linearSoftMoments(counts, structure, { kind: 'dense', n: N, values: dense });
    // The teacher's scores for every training reader and book, formed densely: (X B)[u, j].
    const scores = rows.map((r) =>
      Array.from({ length: N }, (_, j) => r.reduce((s, c) => s + dense[c * N + j], 0)),
    );
    const lambda = 3;
    for (const alpha of [0, 0.5, 1]) {
      const w = refitWeights(problem, soft, alpha, lambda);
      for (let j = 0; j < N; j++) {
        // The same blended targets, and the normal equations of the readers x support design solved densely.
        const { x, y } = design(j);
        const blend = y.map((h, u) => alpha * h + (1 - alpha) * scores[u][j]);
        t.ok(
          maxAbsDiff(w.subarray(j * K, (j + 1) * K), ridge(x, blend, lambda)) < 1e-4,
          `a = ${alpha}, book ${j}`,
        );
      }
    }
    // With the ridge towards a start, the same targets with the start's pull added (lambda * w0).
    const start = Float32Array.from({ length: N * K }, (_, s) => (s % 4) / 8);
    const towardsStart = refitWeights(problem, soft, 0.5, lambda, 0, start);
    for (let j = 0; j < N; j++) {
      const { x, y } = design(j);
      const blend = y.map((h, u) => 0.5 * h + 0.5 * scores[u][j]);
      const root = Math.sqrt(lambda);
      const extraX = Array.from({ length: K }, (_, p) =>
        Array.from({ length: K }, (_, q) => (p === q ? root : 0)),
      );
      const extraY = Array.from({ length: K }, (_, p) => root * start[j * K + p]);
      const expected = ridge([...x, ...extraX], [...blend, ...extraY], 0);
      t.ok(
        maxAbsDiff(towardsStart.subarray(j * K, (j + 1) * K), expected) < 1e-4,
        `towards the start, book ${j}`,
      );
    }
  },
);

t.test('a ridge towards the start solves (G + lambda I) w = G[S, j] + lambda w0', async (t) => {
  const problem = refitProblem(sparseCooccurrence(data, train), structure);
  const start = Float32Array.from({ length: N * K }, (_, s) => (s % 5) / 10);
  const w = refitWeights(problem, null, 1, 4, 0, start);
  for (let j = 0; j < N; j++) {
    const { x, y } = design(j);
    // Augmented least squares: rows sqrt(lambda) e_p with targets sqrt(lambda) w0_p.
    const extraX = Array.from({ length: K }, (_, p) =>
      Array.from({ length: K }, (_, q) => (p === q ? 2 : 0)),
    );
    const extraY = Array.from({ length: K }, (_, p) => 2 * start[j * K + p]);
    t.ok(maxAbsDiff(w.subarray(j * K, (j + 1) * K), ridge([...x, ...extraX], [...y, ...extraY], 0)) < 1e-5);
  }
  const far = refitWeights(problem, null, 1, 1e9, 0, start);
  t.ok(maxAbsDiff(far, start) < 1e-6, 'a huge lambda keeps the start');
});

/** A dense n x n matrix as CSR by column (column j lists its sources i). */
function denseToColumns(dense: Float32Array): SparseItemItem {
  const indptr = new Int32Array(N + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      if (dense[i * N + j] === 0) continue;
      indices.push(i);
      values.push(dense[i * N + j]);
    }
    indptr[j + 1] = indices.length;
  }
  return { n: N, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}
