import t from 'tap';
import { denseItemItemScorer, pruneRows, sparseItemItemScorer } from '../../../trainer/baselines/itemItem.js';

// Row 0: a tie; row 1: negative weights; row 2: all zero; row 3: one weight and zeros.
const dense = Float32Array.from([0, 3, 3, 1, -1, -3, -2, 5, 0, 0, 0, 0, 2, 0, 0, 0]);

t.test('pruning keeps the k largest weights per row, ties to the lower column, zeros dropped', async (t) => {
  const p = pruneRows(dense, 4, 2);
  t.same(Array.from(p.indptr), [0, 2, 4, 4, 5]);
  t.same(Array.from(p.indices), [1, 2, 0, 3, 0]);
  t.same(Array.from(p.values), [3, 3, -1, 5, 2], 'row 1 keeps 5 and -1: the two largest, one negative');
  const one = pruneRows(dense, 4, 1);
  t.same(Array.from(one.indices), [1, 3, 0], 'of the tie 3/3 the lower column wins');
  const wide = pruneRows(dense, 4, 10);
  t.equal(wide.values.length, 8, 'k above n keeps every non-zero weight');
});

t.test('bad arguments are refused', async (t) => {
  t.throws(() => pruneRows(dense, 4, 0), { code: 'BAD_ARGUMENT' });
  t.throws(() => pruneRows(dense, 4, 1.5), { code: 'BAD_ARGUMENT' });
  t.throws(() => pruneRows(dense, 3, 1), { code: 'BAD_SHAPE' });
  t.throws(() => denseItemItemScorer('x', dense, 5), { code: 'BAD_SHAPE' });
});

t.test('the sparse scorer scores like the dense one on the same weights', async (t) => {
  const full = pruneRows(dense, 4, 4);
  const sparse = sparseItemItemScorer('s', full);
  const denseScorer = denseItemItemScorer('d', dense, 4);
  t.equal(sparse.params, 8);
  t.equal(denseScorer.params, 16);
  const histories = [Int32Array.from([0, 1]), Int32Array.from([]), Int32Array.from([3])];
  const a = new Float32Array(12).fill(9);
  const b = new Float32Array(12).fill(9);
  await sparse.score(histories, a);
  await denseScorer.score(histories, b);
  t.same(Array.from(a), Array.from(b));
  t.same(Array.from(a.subarray(0, 4)), [-1, 0, 1, 6], 'rows 0 and 1 summed');
  t.same(Array.from(a.subarray(4, 8)), [0, 0, 0, 0], 'an empty history scores zero, not stale values');
});
