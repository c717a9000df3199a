import t from 'tap';
import {
  f1At,
  hitRateAt,
  MetricsAccumulator,
  ndcgAt,
  precisionAt,
  recallAt,
  reciprocalRank,
} from '../../../trainer/eval/metrics.js';

const set = (...xs: number[]) => new Set(xs);

t.test('recall@K is normalised by min(K, |targets|)', async (t) => {
  t.equal(recallAt([1, 2, 3], set(2, 9), 2), 0.5, 'one of two targets in the top 2');
  t.equal(recallAt([1, 2, 3], set(1, 2, 3, 4, 5), 2), 1, 'K smaller than the targets: both slots hit');
  t.equal(recallAt([7, 8], set(1), 20), 0, 'no hit');
  t.ok(Number.isNaN(recallAt([1], set(), 20)), 'no targets: undefined, not zero');
});

t.test('NDCG@K against hand-computed values', async (t) => {
  // hits at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal for 2 targets = 1 + 1/log2(3)
  const expected = 1.5 / (1 + 1 / Math.log2(3));
  t.ok(Math.abs(ndcgAt([4, 5, 6], set(4, 6), 10) - expected) < 1e-12);
  t.equal(ndcgAt([4, 6, 5], set(4, 6), 10), 1, 'perfect ranking');
  // fewer ranked items than K, one target: hit at rank 2
  t.ok(Math.abs(ndcgAt([1, 2], set(2), 10) - 1 / Math.log2(3)) < 1e-12);
  t.equal(ndcgAt([1, 2, 3], set(3), 2), 0, 'hit below the cut-off does not count');
});

t.test('HR, precision, F1 and MRR', async (t) => {
  t.equal(hitRateAt([1, 2, 3], set(3), 10), 1);
  t.equal(hitRateAt([1, 2, 3], set(3), 2), 0);
  t.equal(precisionAt([1, 2, 3, 4], set(1, 4), 10), 0.2, 'precision divides by K even when fewer are ranked');
  // P@10 = 0.2, R@10 = 2/min(10,4) = 0.5 -> F1 = 2*0.1/0.7
  t.ok(Math.abs(f1At([1, 2, 3, 4], set(1, 4, 8, 9), 10) - 0.2 / 0.7) < 1e-12);
  t.equal(f1At([5], set(1), 10), 0, 'no hit: F1 is 0, not NaN');
  t.equal(reciprocalRank([5, 6, 7], set(7, 6)), 0.5);
  t.equal(reciprocalRank([5], set(1)), 0);
});

t.test('the accumulator averages over users with targets and measures coverage', async (t) => {
  const acc = new MetricsAccumulator(20);
  acc.add([0, 1, 2], [0]);
  acc.add([0, 3, 4], [9]);
  acc.add([5], []);
  const m = acc.result();
  t.equal(acc.users, 2, 'a user without targets is skipped');
  t.equal(m['hr@10'], 0.5);
  t.equal(m['coverage@10'], 5 / 20, 'items 0..4 appear in some top-10');
});
