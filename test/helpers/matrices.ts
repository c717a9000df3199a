import { buildCsr, type Interactions } from '../../trainer/data/interactions.js';
import { mulberry32 } from '../../trainer/random.js';

/** Interactions from explicit rows: rows[u] lists the dense items user u read. */
export function interactionsFromRows(rows: number[][], nItems: number): Interactions {
  const users: number[] = [];
  const items: number[] = [];
  rows.forEach((row, u) => {
    for (const i of row) {
      users.push(u);
      items.push(i);
    }
  });
  const { indptr, indices } = buildCsr(Int32Array.from(users), Int32Array.from(items), rows.length);
  return {
    userIds: Int32Array.from(rows, (_, u) => u + 1),
    itemIds: Int32Array.from({ length: nItems }, (_, i) => i + 1),
    indptr,
    indices,
  };
}

/** Seeded random binary rows: each user reads each item with probability `density`. */
export function randomRows(nUsers: number, nItems: number, density: number, seed: number): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: nUsers }, () =>
    Array.from({ length: nItems }, (_, i) => i).filter(() => rng() < density),
  );
}

/** A seeded random SPD matrix X^T X + ridge I, like the Gram matrices EASE inverts. */
export function randomSpd(n: number, seed: number, ridge = 1): Float64Array {
  const rng = mulberry32(seed);
  const rows = 3 * n;
  const x = Float64Array.from({ length: rows * n }, () => (rng() < 0.3 ? 1 : 0));
  const a = new Float64Array(n * n);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < n; i++) {
      const xi = x[r * n + i];
      if (xi !== 0) for (let j = 0; j < n; j++) a[i * n + j] += xi * x[r * n + j];
    }
  for (let i = 0; i < n; i++) a[i * n + i] += ridge;
  return a;
}

/**
 * The textbook dense inverse, Gauss-Jordan with partial pivoting on [A | I]: slow and independent of
 * the project's solvers, which is the point of using it as the reference.
 */
export function gaussJordanInverse(a: ArrayLike<number>, n: number): Float64Array {
  const w = 2 * n;
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * w + j] = a[i * n + j];
    m[i * w + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * w + c]) > Math.abs(m[pivot * w + c])) pivot = r;
    for (let j = 0; j < w; j++) {
      const tmp = m[c * w + j];
      m[c * w + j] = m[pivot * w + j];
      m[pivot * w + j] = tmp;
    }
    const d = m[c * w + c];
    for (let j = 0; j < w; j++) m[c * w + j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * w + c];
      if (f !== 0) for (let j = 0; j < w; j++) m[r * w + j] -= f * m[c * w + j];
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[i * w + n + j];
  return out;
}

/** Largest |a - b| over all entries. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Largest |(A B - I)[i, j]|: how far B is from A's inverse. */
export function inverseResidual(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  return worst;
}

/** How many pairs (i, j) have a[i, j] !== a[j, i]. */
export function asymmetry(a: ArrayLike<number>, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (a[i * n + j] !== a[j * n + i]) count++;
  return count;
}
