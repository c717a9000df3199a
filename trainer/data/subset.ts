import { deriveSeed, mulberry32, shuffle } from '../random.js';
import { buildCsr, type Interactions, itemCount, itemPopularity, userCount } from './interactions.js';

/** The subset's own random stream, apart from the split's (mulberry32(seed)) and the fold-ins'. */
const SAMPLE_STREAM = -2;

/**
 * A smaller data set for the quick profile (demo and tests): the `maxItems` most-read books and, of the
 * users who read any of them, a random sample of `maxUsers` drawn with the run's seed. Not the first
 * ids: a file's numbering is no sample of its readers (goodbooks' first 8,000 ids made "Invisible
 * Monsters" the most-read book). Raw ids are kept, users stay in ascending order, so the catalogue and
 * the evaluation work unchanged.
 */
export function subsetInteractions(
  x: Interactions,
  maxItems: number,
  maxUsers: number,
  seed: number,
): Interactions {
  const pop = itemPopularity(x);
  const byPopularity = Array.from(pop.keys()).sort((a, b) => pop[b] - pop[a] || a - b);
  const keptItems = byPopularity.slice(0, Math.min(maxItems, itemCount(x))).sort((a, b) => a - b);
  const newItem = new Int32Array(itemCount(x)).fill(-1);
  keptItems.forEach((old, i) => {
    newItem[old] = i;
  });

  const readers: number[] = [];
  for (let u = 0; u < userCount(x); u++) {
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
      if (newItem[x.indices[p]] >= 0) {
        readers.push(u);
        break;
      }
    }
  }
  let keptUsers = Int32Array.from(readers);
  if (keptUsers.length > maxUsers) {
    keptUsers = shuffle(keptUsers, mulberry32(deriveSeed(seed, SAMPLE_STREAM)))
      .slice(0, maxUsers)
      .sort();
  }

  const users: number[] = [];
  const items: number[] = [];
  keptUsers.forEach((u, kept) => {
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
      const i = newItem[x.indices[p]];
      if (i < 0) continue;
      users.push(kept);
      items.push(i);
    }
  });
  const { indptr, indices } = buildCsr(Int32Array.from(users), Int32Array.from(items), keptUsers.length);
  return {
    userIds: Int32Array.from(keptUsers, (u) => x.userIds[u]),
    itemIds: Int32Array.from(keptItems, (i) => x.itemIds[i]),
    indptr,
    indices,
  };
}

/**
 * For each book of `subset`, how many training readers read it, counted over the whole data set `all`
 * (that `subset` was drawn from, raw ids shared): every reader except the subset's held-out ones (its
 * users outside `trainUsers`, whose reads the evaluation keeps for itself). A sample of readers is
 * enough to train on, but "popular" should mean what all readers say. With subset = all it is the
 * training users' popularity.
 */
export function trainingReaderCounts(
  all: Interactions,
  subset: Interactions,
  trainUsers: Int32Array,
): Float64Array {
  const training = new Uint8Array(userCount(subset));
  for (const u of trainUsers) training[u] = 1;
  const heldOut = new Set<number>();
  subset.userIds.forEach((id, u) => {
    if (!training[u]) heldOut.add(id);
  });
  const readers: number[] = [];
  all.userIds.forEach((id, u) => {
    if (!heldOut.has(id)) readers.push(u);
  });
  const counts = itemPopularity(all, readers);
  // Both catalogues are ascending raw ids: one merge maps the subset's books to all's.
  const out = new Float64Array(itemCount(subset));
  let j = 0;
  subset.itemIds.forEach((id, i) => {
    while (all.itemIds[j] < id) j++;
    out[i] = all.itemIds[j] === id ? counts[j] : 0;
  });
  return out;
}

/** The same interactions without the given dense items (remaining items renumbered, raw ids kept). */
export function dropItems(x: Interactions, drop: readonly number[]): Interactions {
  const gone = new Set(drop);
  const newItem = new Int32Array(itemCount(x)).fill(-1);
  const keptItems: number[] = [];
  for (let i = 0; i < itemCount(x); i++) {
    if (gone.has(i)) continue;
    newItem[i] = keptItems.length;
    keptItems.push(i);
  }
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < userCount(x); u++) {
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
      const i = newItem[x.indices[p]];
      if (i < 0) continue;
      users.push(u);
      items.push(i);
    }
  }
  const { indptr, indices } = buildCsr(Int32Array.from(users), Int32Array.from(items), userCount(x));
  return { userIds: x.userIds, itemIds: Int32Array.from(keptItems, (i) => x.itemIds[i]), indptr, indices };
}
