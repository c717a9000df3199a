import t from 'tap';
import { buildCsr, type Interactions } from '../../trainer/data/interactions.js';
import { mulberry32 } from '../../trainer/random.js';
import { FOLD_IN_SHARE, MIN_READS, splitUsers } from '../../trainer/split.js';

/** A synthetic data set: user u reads (u % 17) + 1 distinct random items out of 300. */
function synthetic(nUsers: number): Interactions {
  const rng = mulberry32(11);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let k = 0; k < (u % 17) + 1; k++) {
      users.push(u);
      items.push(Math.floor(rng() * 300));
    }
  }
  const { indptr, indices } = buildCsr(Int32Array.from(users), Int32Array.from(items), nUsers);
  return {
    userIds: Int32Array.from({ length: nUsers }, (_, i) => i + 1),
    itemIds: Int32Array.from({ length: 300 }, (_, i) => i + 1),
    indptr,
    indices,
  };
}

const data = synthetic(1000);

t.test('same seed, same split; another seed, another split', async (t) => {
  const a = splitUsers(data, 42);
  const b = splitUsers(data, 42);
  t.same(a.trainUsers, b.trainUsers);
  t.same(a.test, b.test);
  const c = splitUsers(data, 7);
  t.notSame(Array.from(a.trainUsers), Array.from(c.trainUsers));
});

t.test('users are split 80/10/10 and the parts are disjoint', async (t) => {
  const s = splitUsers(data, 42);
  t.equal(s.trainUsers.length, 800);
  const heldOut = [...s.validation, ...s.test].map((u) => u.user);
  const all = new Set([...s.trainUsers, ...heldOut]);
  t.equal(all.size, s.trainUsers.length + heldOut.length, 'no user in two parts');
  t.equal(s.validation.length + s.tooFewReads.validation, 100);
  t.equal(s.test.length + s.tooFewReads.test, 100);
});

t.test('held-out users: fold-in and targets partition their reads, 80/20, at least MIN_READS', async (t) => {
  const s = splitUsers(data, 42);
  t.ok(s.test.length > 0);
  for (const u of [...s.validation, ...s.test]) {
    const row = Array.from(data.indices.subarray(data.indptr[u.user], data.indptr[u.user + 1]));
    t.ok(row.length >= MIN_READS);
    t.same(
      [...u.foldIn, ...u.targets].sort((a, b) => a - b),
      row,
      `user ${u.user}: fold-in + targets = reads`,
    );
    t.equal(u.foldIn.length, Math.round(row.length * FOLD_IN_SHARE));
    t.ok(u.targets.length >= 1);
  }
});

t.test('a user keeps the same fold-in whatever else is in the data', async (t) => {
  const s = splitUsers(data, 42);
  const target = s.test[0];
  const again = splitUsers(data, 42).test.find((u) => u.user === target.user);
  t.same(again?.foldIn, target.foldIn);
});
