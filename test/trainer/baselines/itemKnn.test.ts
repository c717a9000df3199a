import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { cooccurrenceInto } from '../../../trainer/baselines/cooccurrence.js';
import type { SparseItemItem } from '../../../trainer/baselines/itemItem.js';
import { cosineSimilarity, itemKnnScorer } from '../../../trainer/baselines/itemKnn.js';
import { BASELINES } from '../../../trainer/baselines/registry.js';
import { interactionsFromRows, maxAbsDiff } from '../../helpers/matrices.js';

function toDense(m: SparseItemItem): Float32Array {
  const out = new Float32Array(m.n * m.n);
  for (let i = 0; i < m.n; i++)
    for (let e = m.indptr[i]; e < m.indptr[i + 1]; e++) out[i * m.n + m.indices[e]] = m.values[e];
  return out;
}

/*
 * Training users 0-3 read {0,1}, {0,1,2}, {1,2}, {2,3}; item 4 is read by nobody in training. User 4
 * is held out: its reads ({0,3}) must not count. Co-occurrence by hand: C00 = 2, C11 = 3, C22 = 3,
 * C33 = 1, C01 = 2, C02 = 1, C12 = 2, C23 = 1, so cos01 = 2/sqrt(6), cos02 = 1/sqrt(6), cos12 = 2/3,
 * cos23 = 1/sqrt(3), and the rest 0.
 */
const data = interactionsFromRows(
  [
    [0, 1],
    [0, 1, 2],
    [1, 2],
    [2, 3],
    [0, 3],
  ],
  5,
);
const train = Int32Array.from([0, 1, 2, 3]);
const c01 = 2 / Math.sqrt(6);
const c02 = 1 / Math.sqrt(6);
const c12 = 2 / 3;
const c23 = 1 / Math.sqrt(3);

t.test('co-occurrence counts only the training users', async (t) => {
  const c = cooccurrenceInto(new Float64Array(25), data, train);
  t.same(Array.from(c.subarray(0, 5)), [2, 2, 1, 0, 0]);
  t.same(Array.from(c.subarray(10, 15)), [1, 2, 3, 1, 0]);
  t.same(Array.from(c.subarray(20, 25)), [0, 0, 0, 0, 0], 'nobody in training read item 4');
});

t.test('cosine similarities against hand-computed values, zero diagonal', async (t) => {
  const s = toDense(cosineSimilarity(data, train));
  const expected = [
    [0, c01, c02, 0, 0],
    [c01, 0, c12, 0, 0],
    [c02, c12, 0, c23, 0],
    [0, 0, c23, 0, 0],
    [0, 0, 0, 0, 0],
  ].flat();
  t.ok(maxAbsDiff(s, expected) < 1e-7, 'float32 cosine');
});

t.test('scores are the sums of the history items similarity rows', async (t) => {
  const knn = itemKnnScorer(data, train);
  t.equal(knn.name, 'itemknn');
  t.equal(knn.params, 8, 'only the pairs read together are stored');
  const out = new Float32Array(10);
  await knn.score([Int32Array.from([0]), Int32Array.from([0, 2])], out);
  t.ok(maxAbsDiff(out.subarray(0, 5), [0, c01, c02, 0, 0]) < 1e-6);
  t.ok(maxAbsDiff(out.subarray(5), [c02, c01 + c12, c02, c23, 0]) < 1e-6);
});

t.test('a neighbour cap keeps each history item its k most similar items', async (t) => {
  const knn = itemKnnScorer(data, train, { neighbours: 1 });
  // Nearest of 0: item 1 (2/sqrt(6) > 1/sqrt(6)); of 1: item 0 (0.816 > 2/3); of 2: item 1 (2/3 >
  // 1/sqrt(3)); of 3: item 2. Item 4 has no neighbour at all.
  t.equal(knn.params, 4, 'one weight for each item with a neighbour');
  const out = new Float32Array(5);
  await knn.score([Int32Array.from([0, 2])], out);
  t.ok(maxAbsDiff(out, [0, c01 + c12, 0, 0, 0]) < 1e-6);
  const all = itemKnnScorer(data, train, { neighbours: 5 });
  t.equal(all.params, 8, 'a cap at the catalogue size keeps every stored pair');
});

t.test('the registry builds itemknn with the configured cap', async (t) => {
  const input = {
    reads: data,
    trainUsers: train,
    knnNeighbours: 2,
    easeLambda: 10,
    log: createMemoryLogger(),
  };
  const knn = await BASELINES.itemknn(input);
  t.equal(knn.params, 7, '2 + 2 + 2 kept weights, 1 for item 3 (one neighbour), none for item 4');
});
