import t from 'tap';
import { cholesky, invertLower, invertSpd, mirrorLower } from '../../../trainer/linalg/cholesky.js';
import {
  asymmetry,
  gaussJordanInverse,
  inverseResidual,
  maxAbsDiff,
  randomSpd,
} from '../../helpers/matrices.js';

// A = L L^T with L = [[2,0,0],[1,2,0],[1,1,2]], worked by hand.
const A = [4, 2, 2, 2, 5, 3, 2, 3, 6];
const L = [2, 0, 0, 1, 2, 0, 1, 1, 2];

t.test('Cholesky of a hand-checked 3x3 matrix', async (t) => {
  const a = Float64Array.from(A);
  cholesky(a, 3);
  t.same(Array.from(a), L, 'lower factor, upper triangle zeroed');
});

t.test('Cholesky reads only the lower triangle', async (t) => {
  const a = Float64Array.from([4, 99, 99, 2, 5, 99, 2, 3, 6]);
  cholesky(a, 3);
  t.same(Array.from(a), L);
});

t.test('inverse of a lower-triangular matrix, by hand', async (t) => {
  const m = Float64Array.from(L);
  invertLower(m, 3);
  t.same(Array.from(m), [0.5, 0, 0, -0.25, 0.5, 0, -0.125, -0.25, 0.5]);
  t.throws(() => invertLower(Float64Array.from([1, 0, 1, 0]), 2), { code: 'SINGULAR' });
});

t.test('SPD inverse: 2x2 by hand, 3x3 and a random 41x41 against Gauss-Jordan', async (t) => {
  const two = invertSpd(Float64Array.from([2, 1, 1, 2]), 2);
  t.ok(maxAbsDiff(two, [2 / 3, -1 / 3, -1 / 3, 2 / 3]) < 1e-15);
  const three = invertSpd(Float64Array.from(A), 3);
  t.ok(inverseResidual(A, three, 3) < 1e-14, 'A A^-1 = I');
  t.ok(maxAbsDiff(three, gaussJordanInverse(A, 3)) < 1e-14);
  const a = randomSpd(41, 3);
  const inv = invertSpd(a, 41);
  t.ok(maxAbsDiff(inv, gaussJordanInverse(a, 41)) < 1e-12);
  t.same(Array.from(a), Array.from(randomSpd(41, 3)), 'the input is left alone');
  t.equal(asymmetry(inv, 41), 0, 'exactly symmetric');
});

t.test('a matrix that is not positive definite, or not square, is refused', async (t) => {
  t.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), { code: 'NOT_POSITIVE_DEFINITE' });
  t.throws(() => invertSpd(Float64Array.from([0, 0, 0, 1]), 2), { code: 'NOT_POSITIVE_DEFINITE' });
  t.throws(() => cholesky(new Float64Array(5), 2), { code: 'BAD_SHAPE' });
});

t.test('mirrorLower copies the lower triangle up, across tile borders', async (t) => {
  const n = 7;
  const a = Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) >= k % n ? k : -1));
  mirrorLower(a, n, 3);
  t.equal(asymmetry(a, n), 0);
  t.equal(a[1 * n + 5], 5 * n + 1);
});
