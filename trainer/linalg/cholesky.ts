import { BookrecError } from '../../common/errors.js';

/**
 * Small dense symmetric positive-definite (SPD) algebra in Float64Array, row-major (a[i * n + j]).
 * Every inner loop runs along a row, so V8 reads memory contiguously; these routines are unblocked and
 * meant for blocks of up to a few hundred rows (the blocked solvers in sweep.ts and wasmInverse.ts call
 * them on their diagonal blocks).
 */

/**
 * Cholesky factorisation A = L L^T in place: the lower triangle of `a` becomes L, the strict upper
 * triangle is zeroed. Only the lower triangle of `a` is read. Throws NOT_POSITIVE_DEFINITE when a pivot
 * is not positive (the matrix is not SPD, or too ill-conditioned for float64).
 */
export function cholesky(a: Float64Array, n: number): void {
  checkSquare(a, n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let p = 0; p < j; p++) d -= a[rj + p] * a[rj + p];
    if (!(d > 0)) {
      throw new BookrecError('NOT_POSITIVE_DEFINITE', `matrix is not positive definite (pivot ${j} is ${d})`);
    }
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let p = 0; p < j; p++) s -= a[ri + p] * a[rj + p];
      a[ri + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) a.fill(0, i * n + i + 1, (i + 1) * n);
}

/**
 * Inverse of a lower-triangular L in place (the result is lower triangular too). Row i of L^-1 is
 * built from the rows above it, which are already inverted: M[i, :i] = -(1/L_ii) sum_p L[i, p] M[p, :].
 */
export function invertLower(a: Float64Array, n: number): void {
  checkSquare(a, n);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    acc.fill(0, 0, i);
    for (let p = 0; p < i; p++) {
      const l = a[ri + p];
      if (l === 0) continue;
      const rp = p * n;
      for (let j = 0; j <= p; j++) acc[j] += l * a[rp + j];
    }
    const lii = a[ri + i];
    if (lii === 0) throw new BookrecError('SINGULAR', `triangular matrix is singular (row ${i})`);
    const inv = 1 / lii;
    for (let j = 0; j < i; j++) a[ri + j] = -acc[j] * inv;
    a[ri + i] = inv;
  }
}

/**
 * Inverse of an SPD matrix (only its lower triangle is read), as a new full symmetric matrix:
 * A^-1 = L^-T L^-1, accumulated as a sum over rows p of M = L^-1 of the outer products M[p,:]^T M[p,:].
 */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  cholesky(m, n);
  invertLower(m, n);
  const out = new Float64Array(n * n);
  for (let p = 0; p < n; p++) {
    const rp = p * n;
    for (let i = 0; i <= p; i++) {
      const v = m[rp + i];
      if (v === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) out[ri + j] += v * m[rp + j];
    }
  }
  mirrorLower(out, n);
  return out;
}

/**
 * Copies the lower triangle onto the upper one, making the matrix exactly symmetric. Tiled, because the
 * writes go down columns: tile by tile both sides stay in cache on a 10k x 10k matrix.
 */
export function mirrorLower(a: Float64Array | Float32Array, n: number, tile = 64): void {
  for (let i0 = 0; i0 < n; i0 += tile) {
    const i1 = Math.min(n, i0 + tile);
    for (let j0 = 0; j0 <= i0; j0 += tile) {
      for (let i = i0; i < i1; i++) {
        const j1 = Math.min(i, j0 + tile);
        for (let j = j0; j < j1; j++) a[j * n + i] = a[i * n + j];
      }
    }
  }
}

function checkSquare(a: ArrayLike<number>, n: number): void {
  if (a.length !== n * n) {
    throw new BookrecError('BAD_SHAPE', `expected a ${n}x${n} matrix (${n * n} values), got ${a.length}`);
  }
}

/**
 * Solves A x = b for a small SPD A (float64, row-major n x n; only the lower triangle is read) by
 * Cholesky and two triangular solves. `a` is overwritten with its factor and `b` with x. The work of the
 * per-book ridge regressions (sparse EASE, the student's refit): thousands of solves of size 16 to 256.
 */
export function solveSpdInPlace(a: Float64Array, n: number, b: Float64Array): void {
  cholesky(a, n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let p = 0; p < i; p++) s -= a[ri + p] * b[p];
    b[i] = s / a[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= a[p * n + i] * b[p];
    b[i] = s / a[i * n + i];
  }
}
