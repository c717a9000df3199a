import { type Interactions, itemCount } from '../data/interactions.js';

/**
 * Item-item co-occurrence counts C = X^T X over the given users (X: users x items, binary): C[i, j] =
 * how many of them read both i and j, C[i, i] = how many read i. Dense row-major, written into `out`
 * (Float32Array is exact below 2^24 users; Float64Array when the solver wants double precision).
 *
 * Built one item row at a time through the item -> users index: the ~sum(n_u^2) additions for row i
 * all land in the same 40 KB row, which stays in cache, instead of scattering over the whole matrix.
 */
export function cooccurrenceInto<T extends Float32Array | Float64Array>(
  out: T,
  x: Interactions,
  users: Int32Array,
): T {
  const n = itemCount(x);
  out.fill(0);
  const { indptr: byItem, users: readers } = usersByItem(x, users);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * n, (i + 1) * n);
    for (let r = byItem[i]; r < byItem[i + 1]; r++) {
      const u = readers[r];
      for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) row[x.indices[p]] += 1;
    }
  }
  return out;
}

/** The transpose of the users' rows: for item i, readers[indptr[i] .. indptr[i + 1]) read it. */
export function usersByItem(x: Interactions, users: Int32Array): { indptr: Int32Array; users: Int32Array } {
  const n = itemCount(x);
  const indptr = new Int32Array(n + 1);
  for (const u of users) for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) indptr[x.indices[p] + 1]++;
  for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
  const fill = indptr.slice(0, n);
  const readers = new Int32Array(indptr[n]);
  for (const u of users)
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) readers[fill[x.indices[p]]++] = u;
  return { indptr, users: readers };
}
