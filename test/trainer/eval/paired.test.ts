import t from 'tap';
import { pairedBootstrap } from '../../../trainer/eval/paired.js';

t.test('identical models differ by exactly zero', async (t) => {
  const a = [0.1, 0.5, 0, 1, 0.3];
  t.same(pairedBootstrap(a, a, { resamples: 200 }), { diff: 0, ci95: [0, 0], users: 5, resamples: 200 });
});

t.test('a constant per-user gain is the difference and the whole interval', async (t) => {
  const b = [0.1, 0.5, 0, 0.7, 0.3];
  const a = b.map((v) => v + 0.25);
  const r = pairedBootstrap(a, b, { resamples: 300 });
  t.ok(Math.abs(r.diff - 0.25) < 1e-12);
  t.ok(Math.abs(r.ci95[0] - 0.25) < 1e-12 && Math.abs(r.ci95[1] - 0.25) < 1e-12);
});

t.test('a gain on some users only: the interval contains the mean, and the seed fixes it', async (t) => {
  const b = Array.from({ length: 400 }, (_, i) => (i % 7) / 7);
  const a = b.map((v, i) => (i % 4 === 0 ? v + 0.2 : v));
  const r = pairedBootstrap(a, b, { resamples: 1000, seed: 3 });
  t.ok(Math.abs(r.diff - 0.05) < 1e-12, `mean difference ${r.diff}`);
  t.ok(r.ci95[0] > 0 && r.ci95[0] < 0.05 && r.ci95[1] > 0.05, `interval ${r.ci95}`);
  t.same(pairedBootstrap(a, b, { resamples: 1000, seed: 3 }), r, 'same seed, same interval');
  const flipped = pairedBootstrap(b, a, { resamples: 1000, seed: 3 });
  t.ok(flipped.ci95[1] < 0, 'the other way round, the interval is below zero');
});

t.test('bad input is named', async (t) => {
  t.throws(() => pairedBootstrap([1, 2], [1]), {
    code: 'BAD_ARGUMENT',
    message: 'paired samples differ in length: 2 vs 1',
  });
  t.throws(() => pairedBootstrap([], []), { message: 'paired bootstrap needs at least one user' });
});
