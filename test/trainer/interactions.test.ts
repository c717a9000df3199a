import t from 'tap';
import { buildCsr, denseIds, Int32Builder, itemPopularity, rowOf } from '../../trainer/data/interactions.js';

t.test('buildCsr groups by user, sorts and de-duplicates items', async (t) => {
  const users = Int32Array.from([2, 0, 2, 2, 0, 1]);
  const items = Int32Array.from([5, 3, 1, 5, 3, 4]);
  const { indptr, indices, duplicates } = buildCsr(users, items, 3);
  t.same(Array.from(indptr), [0, 1, 2, 4]);
  t.same(Array.from(indices), [3, 4, 1, 5]);
  t.equal(duplicates, 2);
});

t.test('denseIds maps raw ids to ascending dense indices', async (t) => {
  const { ids, index } = denseIds(Int32Array.from([30, 10, 30, 20]));
  t.same(Array.from(ids), [10, 20, 30]);
  t.equal(index.get(30), 2);
});

t.test('Int32Builder grows past its initial capacity', async (t) => {
  const b = new Int32Builder(2);
  for (let i = 0; i < 10; i++) b.push(i);
  t.same(Array.from(b.view()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

t.test('rows and popularity', async (t) => {
  const { indptr, indices } = buildCsr(Int32Array.from([0, 0, 1]), Int32Array.from([1, 2, 2]), 2);
  const x = { userIds: Int32Array.from([1, 2]), itemIds: Int32Array.from([7, 8, 9]), indptr, indices };
  t.same(Array.from(rowOf(x, 0)), [1, 2]);
  t.same(Array.from(itemPopularity(x)), [0, 1, 2]);
  t.same(Array.from(itemPopularity(x, [1])), [0, 0, 1], 'only the given users');
});
