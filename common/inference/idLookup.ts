import type { OpenModel } from './openModel.js';

/** Book id -> catalogue index, or -1 for a book the catalogue does not hold. */
export type IdLookup = (id: number) => number;

/** A table may take at most this many slots per book (4 bytes each) before the Map is used instead. */
const SLOTS_PER_BOOK = 4;

/** What the lookup is built from (a whole OpenModel in the ranking). */
type Books = Pick<OpenModel, 'catalogue' | 'index'>;

const lookups = new WeakMap<Books, IdLookup>();

/**
 * The ranking's id lookups, one per history event: a typed table indexed by id when the catalogue's ids
 * are small integers (goodbooks 1..10,000, amazon-book-82k 0..82,627), else the model's Map. On 82,628
 * books the Map's scattered entries cost a 40-book history more than scoring it (about 12 of 75 us,
 * bench/rank.ts). The table is a cache built from the catalogue on first use, not a second source: the
 * model's `index` stays what everything else reads. It goes with the model (a WeakMap).
 */
export function idLookupFor(model: Books): IdLookup {
  let lookup = lookups.get(model);
  if (!lookup) {
    lookup = buildLookup(model);
    lookups.set(model, lookup);
  }
  return lookup;
}

function buildLookup(model: Books): IdLookup {
  const { catalogue, index } = model;
  let maxId = -1;
  for (const book of catalogue) {
    if (!Number.isInteger(book.id) || book.id < 0) maxId = Number.POSITIVE_INFINITY;
    else maxId = Math.max(maxId, book.id);
  }
  if (maxId >= SLOTS_PER_BOOK * catalogue.length + 1024) return (id) => index.get(id) ?? -1;
  const table = new Int32Array(maxId + 1).fill(-1);
  for (const [id, i] of index) table[id] = i;
  return (id) => (Number.isInteger(id) && id >= 0 && id <= maxId ? table[id] : -1);
}
