import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { BASELINES } from '../../../trainer/baselines/registry.js';
import { transpose } from '../../../trainer/baselines/sparseEase.js';
import {
  addHistory,
  type ItemWeights,
  supportFromColumns,
  weightCount,
} from '../../../trainer/distill/wideWeights.js';
import { interactionsFromRows, randomRows } from '../../helpers/matrices.js';

// W[i][j], 4 x 4: column 0 is fed best by 2 (0.9) then 1 (0.5); column 3 only by 0.
const dense = Float32Array.from([0, 0, 0, 0.7, 0.5, 0, 0.2, 0, 0.9, 0.4, 0, 0, 0, 0.3, 0.1, 0]);

function sparseOf(values: Float32Array, n: number): ItemWeights {
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (values[i * n + j] === 0) continue;
      indices.push(j);
      vals.push(values[i * n + j]);
    }
    indptr[i + 1] = indices.length;
  }
  const rows = { n, indptr, indices: Int32Array.from(indices), values: Float32Array.from(vals) };
  return { kind: 'sparse', n, rows, columns: transpose(rows) };
}

t.test('the support is each column’s largest weights, the same for dense and sparse weights', async (t) => {
  const fromDense = supportFromColumns({ kind: 'dense', n: 4, values: dense }, 2);
  const fromSparse = supportFromColumns(sparseOf(dense, 4), 2);
  t.same(Array.from(fromDense.sources.subarray(0, 2)), [2, 1]);
  t.same(Array.from(fromDense.weights.subarray(0, 2)), [0.8999999761581421, 0.5]);
  t.same(fromSparse.sources.subarray(0, 2), fromDense.sources.subarray(0, 2));
  // Column 3 has one source in the sparse matrix: padded with another book (never 3 itself) at weight 0.
  t.equal(fromSparse.sources[6], 0);
  t.equal(fromSparse.weights[7], 0);
  t.not(fromSparse.sources[7], 3);
  t.not(fromSparse.sources[7], 0, 'no source twice');
});

t.test('scores and sizes agree between the two forms', async (t) => {
  const a = new Float32Array(4);
  const b = new Float32Array(4);
  addHistory({ kind: 'dense', n: 4, values: dense }, [1, 2], a);
  addHistory(sparseOf(dense, 4), [1, 2], b);
  t.same(a, b);
  t.equal(weightCount({ kind: 'dense', n: 4, values: dense }), 12);
  t.equal(weightCount(sparseOf(dense, 4)), 7);
});

t.test('bookrec evaluate takes the sparse EASE past the dense limit', async (t) => {
  const n = 15;
  const reads = interactionsFromRows(randomRows(60, n, 0.3, 4), n);
  const input = {
    reads,
    trainUsers: Int32Array.from({ length: 50 }, (_, u) => u),
    knnNeighbours: 0,
    easeLambda: 5,
    easeDenseMax: 10,
    easeCandidates: 4,
    log: createMemoryLogger(),
  };
  const ease = await BASELINES.ease(input);
  t.ok(ease.params <= n * 4, `at most 4 weights per book, got ${ease.params}`);
  const top = await BASELINES['ease-top16'](input);
  t.equal(top.params, ease.params, 'ease-top16 reuses the same fit (4 < 16 weights per book)');
  t.ok(input.log.lines.some((l) => l.msg === 'sparse EASE (catalogue past the dense limit)'));
});
