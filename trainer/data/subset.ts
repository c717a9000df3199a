import { buildCsr, type Interactions, itemCount, itemPopularity, userCount } from './interactions.js';

/**
 * A smaller data set for the quick profile (demo and tests): the `maxItems` most-read books and, of the
 * users who read any of them, the first `maxUsers` in id order (deterministic, no randomness needed).
 * Raw ids are kept, so the catalogue and the evaluation work unchanged.
 */
export function subsetInteractions(x: Interactions, maxItems: number, maxUsers: number): Interactions {
  const pop = itemPopularity(x);
  const byPopularity = Array.from(pop.keys()).sort((a, b) => pop[b] - pop[a] || a - b);
  const keptItems = byPopularity.slice(0, Math.min(maxItems, itemCount(x))).sort((a, b) => a - b);
  const newItem = new Int32Array(itemCount(x)).fill(-1);
  keptItems.forEach((old, i) => {
    newItem[old] = i;
  });

  const users: number[] = [];
  const items: number[] = [];
  const keptUsers: number[] = [];
  for (let u = 0; u < userCount(x) && keptUsers.length < maxUsers; u++) {
    let any = false;
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
      const i = newItem[x.indices[p]];
      if (i < 0) continue;
      users.push(keptUsers.length);
      items.push(i);
      any = true;
    }
    if (any) keptUsers.push(u);
  }
  const { indptr, indices } = buildCsr(Int32Array.from(users), Int32Array.from(items), keptUsers.length);
  return {
    userIds: Int32Array.from(keptUsers, (u) => x.userIds[u]),
    itemIds: Int32Array.from(keptItems, (i) => x.itemIds[i]),
    indptr,
    indices,
  };
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
