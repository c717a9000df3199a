import t from 'tap';
import { invertSpdInPlace } from '../../../trainer/linalg/sweep.js';
import {
  asymmetry,
  gaussJordanInverse,
  inverseResidual,
  maxAbsDiff,
  randomSpd,
} from '../../helpers/matrices.js';

t.test('the blocked sweep inverts like Gauss-Jordan, for any block width and ragged sizes', async (t) => {
  for (const [n, block] of [
    [1, 4],
    [5, 4],
    [37, 8],
    [64, 16],
    [130, 128],
    [61, 1],
  ]) {
    const a = randomSpd(n, n);
    const p = Float64Array.from(a);
    invertSpdInPlace(p, n, { block });
    t.ok(maxAbsDiff(p, gaussJordanInverse(a, n)) < 1e-11, `n=${n} block=${block}`);
  }
});

t.test('reads only the lower triangle, reports progress and leaves a symmetric inverse', async (t) => {
  const n = 50;
  const a = randomSpd(n, 9);
  const p = Float64Array.from(a);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) p[i * n + j] = Number.NaN;
  const seen: number[] = [];
  invertSpdInPlace(p, n, { block: 16, onProgress: (done, total) => seen.push(done / total) });
  t.ok(inverseResidual(a, p, n) < 1e-12);
  t.equal(asymmetry(p, n), 0, 'exactly symmetric');
  t.same(seen, [16 / 50, 32 / 50, 48 / 50, 1]);
});

t.test('a matrix that is not positive definite is refused', async (t) => {
  t.throws(() => invertSpdInPlace(Float64Array.from([1, 2, 2, 1]), 2), { code: 'NOT_POSITIVE_DEFINITE' });
});
