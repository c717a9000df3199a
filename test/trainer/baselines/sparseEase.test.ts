import t from 'tap';
import {
  cooccurrenceBound,
  cooccurrenceInto,
  countAt,
  sparseCooccurrence,
} from '../../../trainer/baselines/cooccurrence.js';
import { weightsFromInverse } from '../../../trainer/baselines/ease.js';
import { fitSparseEase, topCoRead, transpose } from '../../../trainer/baselines/sparseEase.js';
import { gaussJordanInverse, interactionsFromRows, maxAbsDiff, randomRows } from '../../helpers/matrices.js';

const N = 19;
const rows = randomRows(80, N, 0.3, 5);
const data = interactionsFromRows(rows, N);
const train = Int32Array.from({ length: 70 }, (_, u) => u);

t.test('the sparse co-occurrence equals the dense counts, and its bound is sum n_u^2', async (t) => {
  const dense = cooccurrenceInto(new Float64Array(N * N), data, train);
  const sparse = sparseCooccurrence(data, train);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) t.equal(countAt(sparse, i, j), dense[i * N + j]);
  t.equal(sparse.indices.length, dense.filter((v) => v !== 0).length, 'only pairs read together are stored');
  for (let i = 0; i < N; i++) {
    const row = Array.from(sparse.indices.subarray(sparse.indptr[i], sparse.indptr[i + 1]));
    t.same(
      row,
      [...row].sort((a, b) => a - b),
      `row ${i} ascending`,
    );
  }
  let bound = 0;
  for (const u of train) bound += rows[u].length ** 2;
  t.equal(cooccurrenceBound(data, train), bound);
});

t.test('with every co-read book as a candidate, sparse EASE is dense EASE', async (t) => {
  const lambda = 7;
  const g = cooccurrenceInto(new Float64Array(N * N), data, train);
  for (let i = 0; i < N; i++) g[i * N + i] += lambda;
  const dense = weightsFromInverse(gaussJordanInverse(g, N), N, new Float32Array(N * N));
  const { rows: byRow, columns } = fitSparseEase(sparseCooccurrence(data, train), { lambda, candidates: N });
  const fromSparse = new Float32Array(N * N);
  for (let i = 0; i < N; i++)
    for (let e = byRow.indptr[i]; e < byRow.indptr[i + 1]; e++)
      fromSparse[i * N + byRow.indices[e]] = byRow.values[e];
  t.ok(maxAbsDiff(fromSparse, dense) < 1e-5, `max difference ${maxAbsDiff(fromSparse, dense)}`);
  t.same(transpose(columns), byRow, 'rows are the transposed columns');
});

t.test('a smaller support keeps the most co-read books of each column', async (t) => {
  const counts = sparseCooccurrence(data, train);
  const { columns } = fitSparseEase(counts, { lambda: 7, candidates: 3 });
  for (let j = 0; j < N; j++) {
    const support = Array.from(columns.indices.subarray(columns.indptr[j], columns.indptr[j + 1]));
    t.ok(support.length <= 3 && !support.includes(j), `column ${j}: at most 3 sources, never itself`);
    t.same(
      support,
      Array.from(topCoRead(counts, j, 3)).sort((a, b) => a - b),
    );
  }
});

t.test('topCoRead orders by count, ties towards the lower book, and skips the book itself', async (t) => {
  // Book 0 read with 1 twice, with 2 and 3 once each.
  const x = interactionsFromRows(
    [
      [0, 1],
      [0, 1, 3],
      [0, 2],
    ],
    4,
  );
  const c = sparseCooccurrence(x, Int32Array.from([0, 1, 2]));
  t.same(Array.from(topCoRead(c, 0, 2)), [1, 2]);
  t.same(Array.from(topCoRead(c, 0, 9)), [1, 2, 3]);
});

t.test('bad sparse EASE settings are named', async (t) => {
  const counts = sparseCooccurrence(data, train);
  t.throws(() => fitSparseEase(counts, { lambda: 0, candidates: 4 }), {
    code: 'BAD_ARGUMENT',
    message: 'EASE lambda must be positive, got 0',
  });
  t.throws(() => fitSparseEase(counts, { lambda: 1, candidates: 0 }), {
    code: 'BAD_ARGUMENT',
    message: 'EASE candidates must be a positive integer, got 0',
  });
});
