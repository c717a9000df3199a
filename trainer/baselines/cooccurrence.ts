import { type Interactions, itemCount } from '../data/interactions.js';
import { grown } from './grow.js';

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

/**
 * Upper bound of the stored entries of the sparse co-occurrence (sum over users of n_u^2): the memory a
 * catalogue will need is known before anything is allocated.
 */
export function cooccurrenceBound(x: Interactions, users: Int32Array): number {
  let total = 0;
  for (const u of users) {
    const n = x.indptr[u + 1] - x.indptr[u];
    total += n * n;
  }
  return total;
}

/**
 * The same counts C = X^T X as a sparse matrix (CSR, columns ascending, diagonal included): for real
 * catalogues most pairs of books were never read together (goodbooks-10k: 24M of 100M pairs; amazon-book
 * 82k: 23M of 6.8 billion). Row i is gathered through the item -> users index into a dense scratch row,
 * whose touched columns are then sorted and emitted, so the work is sum(n_u^2) and the memory is the
 * non-zeros (8 bytes each) plus one row.
 */
export function sparseCooccurrence(
  x: Interactions,
  users: Int32Array,
  onProgress?: (done: number, total: number) => void,
): SparseCounts {
  const n = itemCount(x);
  const { indptr: byItem, users: readers } = usersByItem(x, users);
  const scratch = new Float32Array(n);
  const touched = new Int32Array(n);
  const indptr = new Int32Array(n + 1);
  let indices = new Int32Array(1 << 20);
  let values = new Float32Array(1 << 20);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let r = byItem[i]; r < byItem[i + 1]; r++) {
      const u = readers[r];
      for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
        const j = x.indices[p];
        if (scratch[j] === 0) touched[count++] = j;
        scratch[j] += 1;
      }
    }
    indices = grown(indices, nnz, nnz + count);
    values = grown(values, nnz, nnz + count);
    const row = touched.subarray(0, count).sort();
    for (let k = 0; k < count; k++) {
      const j = row[k];
      indices[nnz] = j;
      values[nnz++] = scratch[j];
      scratch[j] = 0;
    }
    indptr[i + 1] = nnz;
    if ((i & 1023) === 1023) onProgress?.(i + 1, n);
  }
  onProgress?.(n, n);
  return { n, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

/** Sparse counts in CSR (rows by item, columns ascending). */
export interface SparseCounts {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** C[i, j] by binary search in row i (0 when the pair never occurs). */
export function countAt(c: SparseCounts, i: number, j: number): number {
  let lo = c.indptr[i];
  let hi = c.indptr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = c.indices[mid];
    if (v === j) return c.values[mid];
    if (v < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}
