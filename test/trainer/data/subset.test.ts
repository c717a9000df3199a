import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { buildCsr, type Interactions } from '../../../trainer/data/interactions.js';
import { subsetInteractions, trainingReaderCounts } from '../../../trainer/data/subset.js';
import { PROFILES, prepare } from '../../../trainer/distill/prepare.js';

/**
 * The quick profile's data: a seeded random sample of readers (not the first ids), and a "popular"
 * fallback counted over every training reader of the data, not only the sample.
 */

/** Interactions from raw (user id, book id) pairs; dense indices follow ascending raw ids. */
function fromPairs(pairs: [number, number][]): Interactions {
  const userIds = Int32Array.from(new Set(pairs.map(([u]) => u))).sort();
  const itemIds = Int32Array.from(new Set(pairs.map(([, i]) => i))).sort();
  const { indptr, indices } = buildCsr(
    Int32Array.from(pairs, ([u]) => userIds.indexOf(u)),
    Int32Array.from(pairs, ([, i]) => itemIds.indexOf(i)),
    userIds.length,
  );
  return { userIds, itemIds, indptr, indices };
}

t.test('subsetInteractions keeps the most-read books and raw ids', async (t) => {
  const x = fromPairs([
    [10, 100],
    [10, 101],
    [11, 101],
    [11, 102],
    [12, 101],
  ]);
  const s = subsetInteractions(x, 1, Number.POSITIVE_INFINITY, 1);
  t.same(Array.from(s.itemIds), [101], 'the most read book');
  t.same(Array.from(s.userIds), [10, 11, 12], 'every reader of it when there is no user limit');
  t.same(Array.from(s.indices), [0, 0, 0]);
});

t.test('the readers kept are a seeded sample, not the first ids', async (t) => {
  // 200 readers of 4 books; user 1000 + u reads book u % 4 and book (u + 1) % 4.
  const pairs: [number, number][] = [];
  for (let u = 0; u < 200; u++) pairs.push([1000 + u, u % 4], [1000 + u, (u + 1) % 4]);
  const x = fromPairs(pairs);
  const ids = (seed: number) => Array.from(subsetInteractions(x, 4, 20, seed).userIds);
  const one = ids(1);
  t.equal(one.length, 20);
  t.same(
    one,
    [...one].sort((a, b) => a - b),
    'kept users stay in ascending id order',
  );
  t.same(ids(1), one, 'the same seed: the same readers');
  t.not(ids(2).join(), one.join(), 'another seed: other readers');
  t.not(one.join(), Array.from({ length: 20 }, (_, u) => 1000 + u).join(), 'not the first 20 ids');
  t.ok(
    one.some((id) => id >= 1100),
    'readers from the whole id range',
  );
  const s = subsetInteractions(x, 4, 20, 1);
  for (let k = 0; k < 20; k++) {
    const u = s.userIds[k] - 1000;
    t.same(
      Array.from(s.indices.subarray(s.indptr[k], s.indptr[k + 1])),
      [u % 4, (u + 1) % 4].sort(),
      `reader ${s.userIds[k]} keeps their books`,
    );
  }
});

t.test('trainingReaderCounts counts every reader of the data except the held-out ones', async (t) => {
  // Books 1 and 2: the sample (users 1, 2, 3) reads book 2; the other readers of the data read book 1.
  const all = fromPairs([
    [1, 2],
    [2, 2],
    [3, 2],
    [3, 1],
    [4, 1],
    [5, 1],
    [6, 1],
    [7, 3],
  ]);
  const subset = fromPairs([
    [1, 2],
    [2, 2],
    [3, 2],
    [3, 1],
  ]);
  // Subset users 0 and 1 (ids 1, 2) train; user 2 (id 3) is held out: its reads are not counted.
  const counts = trainingReaderCounts(all, subset, Int32Array.from([0, 1]));
  t.same(Array.from(subset.itemIds), [1, 2]);
  t.same(Array.from(counts), [3, 2], 'book 1: ids 4, 5, 6 (not 3, held out); book 2: ids 1, 2');
  t.same(
    Array.from(trainingReaderCounts(subset, subset, Int32Array.from([0, 1]))),
    [0, 2],
    'the data itself: its training users only',
  );
});

t.test('prepare (quick profile): seeded sample, and the fallback says what all readers read', async (t) => {
  // 300 readers, 20 books. The first 60 ids read books 11-15 only (the books a first-ids sample would
  // call popular); every other reader reads books 1-5 and one of 6-10.
  const lines = ['user_id,book_id,rating'];
  for (let u = 1; u <= 300; u++) {
    const books = u <= 60 ? [11, 12, 13, 14, 15] : [1, 2, 3, 4, 5, 6 + (u % 5)];
    for (const b of books) lines.push(`${u},${b},4`);
  }
  const dir = t.testdir({ 'ratings.csv': `${lines.join('\n')}\n` });
  const profile = { ...PROFILES.quick, maxItems: 20, maxUsers: 60 };
  const run = (seed: number) => prepare(dir, seed, profile, createMemoryLogger('info'), { minTestUsers: 1 });
  const one = await run(1);
  const userIds = Array.from(one.reads.userIds);
  t.equal(userIds.length, 60);
  t.not(userIds.join(), Array.from({ length: 60 }, (_, u) => u + 1).join(), 'not the first 60 ids');
  t.same(Array.from((await run(1)).reads.userIds), userIds, 'the same seed: the same readers');
  t.not(Array.from((await run(2)).reads.userIds).join(), userIds.join(), 'another seed: other readers');

  // Expected: each book's readers over the whole file, less the sample's held-out readers.
  const training = new Set(Array.from(one.split.trainUsers, (u) => one.reads.userIds[u]));
  const heldOut = new Set(userIds.filter((id) => !training.has(id)));
  t.ok(heldOut.size > 0, 'the sample has held-out readers');
  const count = new Map<number, number>();
  for (const line of lines.slice(1)) {
    const [user, book] = line.split(',').map(Number);
    if (!heldOut.has(user)) count.set(book, (count.get(book) ?? 0) + 1);
  }
  const expected = [...count.keys()].sort((a, b) => (count.get(b) ?? 0) - (count.get(a) ?? 0) || a - b);
  t.same(one.fallback, expected, 'popularity over every training reader of the data');
  t.same(one.fallback.slice(0, 5), [1, 2, 3, 4, 5], 'what all readers read, not what the first ids read');
});
