import t from 'tap';
import { topK } from '../../trainer/eval/topK.js';
import { mulberry32 } from '../../trainer/random.js';

t.test('topK equals a full sort, best first, ties to the lower index', async (t) => {
  const rng = mulberry32(3);
  const scores = Float32Array.from({ length: 500 }, () => Math.round(rng() * 50));
  const full = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  t.same(Array.from(topK(scores, 37)), full.slice(0, 37));
});

t.test('topK skips excluded and NaN items and handles K above the catalogue', async (t) => {
  const scores = Float32Array.from([5, Number.NaN, 9, 7, 1]);
  t.same(Array.from(topK(scores, 10, [2])), [3, 0, 4]);
  t.same(Array.from(topK(scores, 0)), []);
});
