import { invertSpd, mirrorLower } from './cholesky.js';

/**
 * Inverse of a large SPD matrix in plain JavaScript (Float64Array, row-major), in place, by the blocked
 * symmetric sweep (block Gauss-Jordan): for each pivot block K, with H = M_KK^-1,
 *   M_RR' -= (M_RK H) M_KR',  M_RK <- M_RK H,  M_KK <- -H;
 * after every block has been swept M = -A^-1. Each step is one rank-b update of the lower triangle,
 * n^3 flops in all (as many as Cholesky + inverse), but all of it in one kernel whose operands are
 * b-wide panels packed into contiguous rows: 4x4 register tiles of dot products that V8 compiles to
 * tight scalar code (~4 GFLOPS here; it has no SIMD). Used when the wasm solver cannot load.
 */
export interface BlockedInverseOptions {
  /** Pivot block width (a multiple of 4): wider blocks mean fewer passes over the matrix. */
  block?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Reads the lower triangle of `a` (SPD) and leaves the full symmetric inverse in `a`. */
export function invertSpdInPlace(a: Float64Array, n: number, options: BlockedInverseOptions = {}): void {
  const block = Math.max(4, Math.floor((options.block ?? 128) / 4) * 4);
  const u = new Float64Array(n * Math.min(block, n));
  const v = new Float64Array(n * Math.min(block, n));
  for (let k0 = 0; k0 < n; k0 += block) {
    const k1 = Math.min(n, k0 + block);
    const kb = k1 - k0;
    const mkk = new Float64Array(kb * kb);
    for (let p = 0; p < kb; p++) for (let q = 0; q <= p; q++) mkk[p * kb + q] = a[(k0 + p) * n + k0 + q];
    const h = invertSpd(mkk, kb);
    packPanel(a, n, k0, k1, v);
    multiplyPanel(v, h, u, n, kb);
    rankUpdateLower(a, n, u, v, kb);
    unpackPanel(a, n, k0, k1, u);
    for (let p = 0; p < kb; p++) for (let q = 0; q <= p; q++) a[(k0 + p) * n + k0 + q] = -h[p * kb + q];
    options.onProgress?.(k1, n);
  }
  for (let i = 0; i < n; i++) for (let j = i * n, end = i * n + i + 1; j < end; j++) a[j] = -a[j];
  mirrorLower(a, n);
}

/** v[i, :] = M[i, K] for i outside K (read from the lower triangle), zero rows for i in K. */
function packPanel(a: Float64Array, n: number, k0: number, k1: number, v: Float64Array): void {
  const kb = k1 - k0;
  for (let p = 0; p < kb; p++) {
    const row = (k0 + p) * n;
    for (let i = 0; i < k0; i++) v[i * kb + p] = a[row + i];
  }
  v.fill(0, k0 * kb, k1 * kb);
  for (let i = k1; i < n; i++) v.set(a.subarray(i * n + k0, i * n + k1), i * kb);
}

/** The inverse of packPanel: M[i, K] = u[i, :] for i outside K, into the lower triangle. */
function unpackPanel(a: Float64Array, n: number, k0: number, k1: number, u: Float64Array): void {
  const kb = k1 - k0;
  for (let p = 0; p < kb; p++) {
    const row = (k0 + p) * n;
    for (let i = 0; i < k0; i++) a[row + i] = u[i * kb + p];
  }
  for (let i = k1; i < n; i++) a.set(u.subarray(i * kb, (i + 1) * kb), i * n + k0);
}

/**
 * u = v h, with v an n x kb panel and h a symmetric kb x kb matrix: h's rows are its columns, so this
 * is the same row-dot-row tile kernel as the update.
 */
function multiplyPanel(v: Float64Array, h: Float64Array, u: Float64Array, n: number, kb: number): void {
  u.fill(0, 0, n * kb);
  for (let i0 = 0; i0 < n; i0 += 4) {
    for (let j0 = 0; j0 < kb; j0 += 4) {
      if (i0 + 4 <= n && j0 + 4 <= kb) tile4x4(u, kb, v, h, kb, i0, j0, 1);
      else edgeTile(u, kb, v, h, kb, i0, j0, 1, n, kb);
    }
  }
}

/** Columns of V kept hot in L2 while the rows of U stream past them. */
const COLUMN_CHUNK = 128;

/**
 * a[i, j] -= dot(u[i, :], v[j, :]) for j <= i. Diagonal tiles also write a few entries above the
 * diagonal; nothing reads the upper triangle before the final mirror, so computing them is cheaper than
 * branching.
 */
function rankUpdateLower(a: Float64Array, n: number, u: Float64Array, v: Float64Array, kb: number): void {
  for (let jc0 = 0; jc0 < n; jc0 += COLUMN_CHUNK) {
    const jc1 = Math.min(n, jc0 + COLUMN_CHUNK);
    for (let i0 = jc0; i0 < n; i0 += 4) {
      for (let j0 = jc0; j0 < jc1 && j0 <= i0; j0 += 4) {
        if (i0 + 4 <= n && j0 + 4 <= n) tile4x4(a, n, u, v, kb, i0, j0, -1);
        else edgeTile(a, n, u, v, kb, i0, j0, -1, n, n);
      }
    }
  }
}

/** c[i * ldc + j] += alpha * dot(x[i, :], y[j, :]) for the 4x4 tile at (i0, j0); rows of x, y are kb long. */
function tile4x4(
  c: Float64Array,
  ldc: number,
  x: Float64Array,
  y: Float64Array,
  kb: number,
  i0: number,
  j0: number,
  alpha: number,
): void {
  const a0 = i0 * kb;
  const a1 = a0 + kb;
  const a2 = a1 + kb;
  const a3 = a2 + kb;
  const b0 = j0 * kb;
  const b1 = b0 + kb;
  const b2 = b1 + kb;
  const b3 = b2 + kb;
  let s00 = 0;
  let s01 = 0;
  let s02 = 0;
  let s03 = 0;
  let s10 = 0;
  let s11 = 0;
  let s12 = 0;
  let s13 = 0;
  let s20 = 0;
  let s21 = 0;
  let s22 = 0;
  let s23 = 0;
  let s30 = 0;
  let s31 = 0;
  let s32 = 0;
  let s33 = 0;
  for (let k = 0; k < kb; k++) {
    const p0 = x[a0 + k];
    const p1 = x[a1 + k];
    const p2 = x[a2 + k];
    const p3 = x[a3 + k];
    const q0 = y[b0 + k];
    const q1 = y[b1 + k];
    const q2 = y[b2 + k];
    const q3 = y[b3 + k];
    s00 += p0 * q0;
    s01 += p0 * q1;
    s02 += p0 * q2;
    s03 += p0 * q3;
    s10 += p1 * q0;
    s11 += p1 * q1;
    s12 += p1 * q2;
    s13 += p1 * q3;
    s20 += p2 * q0;
    s21 += p2 * q1;
    s22 += p2 * q2;
    s23 += p2 * q3;
    s30 += p3 * q0;
    s31 += p3 * q1;
    s32 += p3 * q2;
    s33 += p3 * q3;
  }
  let o = i0 * ldc + j0;
  c[o] += alpha * s00;
  c[o + 1] += alpha * s01;
  c[o + 2] += alpha * s02;
  c[o + 3] += alpha * s03;
  o += ldc;
  c[o] += alpha * s10;
  c[o + 1] += alpha * s11;
  c[o + 2] += alpha * s12;
  c[o + 3] += alpha * s13;
  o += ldc;
  c[o] += alpha * s20;
  c[o + 1] += alpha * s21;
  c[o + 2] += alpha * s22;
  c[o + 3] += alpha * s23;
  o += ldc;
  c[o] += alpha * s30;
  c[o + 1] += alpha * s31;
  c[o + 2] += alpha * s32;
  c[o + 3] += alpha * s33;
}

/** A ragged last tile (n not a multiple of 4): rows below rowEnd, columns below colEnd. */
function edgeTile(
  c: Float64Array,
  ldc: number,
  x: Float64Array,
  y: Float64Array,
  kb: number,
  i0: number,
  j0: number,
  alpha: number,
  rowEnd: number,
  colEnd: number,
): void {
  for (let i = i0; i < Math.min(rowEnd, i0 + 4); i++) {
    for (let j = j0; j < Math.min(colEnd, j0 + 4); j++) {
      let s = 0;
      for (let k = 0; k < kb; k++) s += x[i * kb + k] * y[j * kb + k];
      c[i * ldc + j] += alpha * s;
    }
  }
}
