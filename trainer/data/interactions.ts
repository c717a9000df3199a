/**
 * Implicit-feedback interactions in compressed sparse rows (CSR) by user: typed arrays only, so that
 * millions of rows cost tens of megabytes, not gigabytes of objects.
 */
export interface Interactions {
  /** Raw (file) id of each dense user index, ascending. */
  readonly userIds: Int32Array;
  /** Raw (file) id of each dense item index, ascending. */
  readonly itemIds: Int32Array;
  /** Row pointers: the items of user u are indices[indptr[u] .. indptr[u + 1]). Length nUsers + 1. */
  readonly indptr: Int32Array;
  /** Dense item indices, ascending and distinct within each row. */
  readonly indices: Int32Array;
}

export const userCount = (x: Interactions): number => x.userIds.length;
export const itemCount = (x: Interactions): number => x.itemIds.length;
export const interactionCount = (x: Interactions): number => x.indices.length;

/** The items of one user (a view, not a copy). */
export function rowOf(x: Interactions, user: number): Int32Array {
  return x.indices.subarray(x.indptr[user], x.indptr[user + 1]);
}

/** Growable Int32 buffer: amortised appends without arrays of objects. */
export class Int32Builder {
  private buf: Int32Array;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = new Int32Array(initial);
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** The filled part (a view; the builder must not be used after). */
  view(): Int32Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Distinct values of `raw`, ascending, and a lookup from raw value to dense index. */
export function denseIds(raw: Int32Array): { ids: Int32Array; index: Map<number, number> } {
  const ids = Int32Array.from(new Set(raw)).sort();
  const index = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) index.set(ids[i], i);
  return { ids, index };
}

/**
 * Builds a CSR from parallel arrays of dense (user, item) pairs: a counting sort by user, then items
 * sorted and de-duplicated within each row. Returns the number of duplicate pairs dropped.
 */
export function buildCsr(
  users: Int32Array,
  items: Int32Array,
  nUsers: number,
): { indptr: Int32Array; indices: Int32Array; duplicates: number } {
  const counts = new Int32Array(nUsers + 1);
  for (let i = 0; i < users.length; i++) counts[users[i] + 1]++;
  for (let u = 0; u < nUsers; u++) counts[u + 1] += counts[u];
  const fill = counts.slice(0, nUsers);
  const raw = new Int32Array(users.length);
  for (let i = 0; i < users.length; i++) raw[fill[users[i]]++] = items[i];

  const indptr = new Int32Array(nUsers + 1);
  let write = 0;
  for (let u = 0; u < nUsers; u++) {
    const row = raw.subarray(counts[u], counts[u + 1]).sort();
    indptr[u] = write;
    // Writing behind the read position of the same buffer is safe: a row only shrinks.
    let previous = -1;
    for (let j = 0; j < row.length; j++) {
      if (row[j] === previous) continue;
      previous = row[j];
      raw[write++] = previous;
    }
  }
  indptr[nUsers] = write;
  return { indptr, indices: raw.slice(0, write), duplicates: users.length - write };
}

/** Item counts over all rows (how many users read each item). */
export function itemPopularity(x: Interactions, users?: ArrayLike<number>): Float64Array {
  const pop = new Float64Array(itemCount(x));
  const each = (u: number) => {
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) pop[x.indices[p]]++;
  };
  if (users) for (let i = 0; i < users.length; i++) each(users[i]);
  else for (let u = 0; u < userCount(x); u++) each(u);
  return pop;
}
