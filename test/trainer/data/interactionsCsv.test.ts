import { join } from 'node:path';
import t from 'tap';
import { rowOf } from '../../../trainer/data/interactions.js';
import {
  loadInteractionsCsv,
  pairsToInteractions,
  readPairs,
} from '../../../trainer/data/interactionsCsv.js';

/** The items (raw ids) each user (raw id) read, for readable assertions. */
function byUser(
  x: Awaited<ReturnType<typeof loadInteractionsCsv>>['interactions'],
): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (let u = 0; u < x.userIds.length; u++) out[x.userIds[u]] = Array.from(rowOf(x, u), (i) => x.itemIds[i]);
  return out;
}

t.test(
  'v1 (book_id,user_id,rating) and v2 (user_id,book_id,rating) give the same interactions',
  async (t) => {
    const dir = t.testdir({
      'v1.csv': 'book_id,user_id,rating\n1,314,5\n1,439,3\n2,314,4\n7,439,1\n',
      'v2.csv': 'user_id,book_id,rating\n314,1,5\n439,7,1\n314,2,4\n439,1,3\n',
    });
    const v1 = await loadInteractionsCsv(join(dir, 'v1.csv'));
    const v2 = await loadInteractionsCsv(join(dir, 'v2.csv'));
    t.same(byUser(v1.interactions), { 314: [1, 2], 439: [1, 7] });
    t.same(byUser(v2.interactions), byUser(v1.interactions), 'column order does not matter');
    t.match(v1.summary, { rows: 4, kept: 4, skipped: 0, duplicates: 0, users: 2, items: 3 });
  },
);

t.test('duplicate (user, book) pairs are kept once and counted', async (t) => {
  const dir = t.testdir({ 'r.csv': 'book_id,user_id,rating\n1,5,4\n1,5,2\n2,5,3\n1,6,5\n1,5,4\n' });
  const { interactions, summary } = await loadInteractionsCsv(join(dir, 'r.csv'));
  t.same(byUser(interactions), { 5: [1, 2], 6: [1] });
  t.match(summary, { rows: 5, kept: 3, duplicates: 2, skipped: 0 });
});

t.test('generic interactions CSV: user,item[,rating][,timestamp], CRLF, BOM, quoted header', async (t) => {
  const dir = t.testdir({
    'min.csv': 'user,item\n1,10\n2,10\n2,11\n',
    'full.csv': '\uFEFF"user","item","rating","timestamp"\r\n1,10,4.5,1500000000\r\n2,11,3,1500000001\r\n',
  });
  const min = await loadInteractionsCsv(join(dir, 'min.csv'));
  t.same(byUser(min.interactions), { 1: [10], 2: [10, 11] });
  const full = await loadInteractionsCsv(join(dir, 'full.csv'));
  t.same(byUser(full.interactions), { 1: [10], 2: [11] });
});

t.test('a header without a user or an item column is an error naming file and line 1', async (t) => {
  const dir = t.testdir({ 'a.csv': 'book_id,reader,rating\n1,2,3\n', 'b.csv': 'user_id,rating\n1,2\n' });
  await t.rejects(readPairs(join(dir, 'a.csv')), {
    code: 'DATA_HEADER',
    message: new RegExp(`${join(dir, 'a.csv')}:1: header "book_id,reader,rating" has no a user column`),
  });
  await t.rejects(readPairs(join(dir, 'b.csv')), {
    code: 'DATA_HEADER',
    message: /:1: .*has no an item column/,
  });
});

t.test(
  'non-numeric ids, short rows, bad ratings and a truncated last line are skipped and counted',
  async (t) => {
    const file = join(
      t.testdir({
        'r.csv':
          'user_id,book_id,rating\n1,10,5\nabc,10,4\n2,-3,4\n3\n4,12,five\n5,13,3\n99999999999,1,1\n6,1',
      }),
      'r.csv',
    );
    const { summary, interactions } = await loadInteractionsCsv(file);
    t.same(byUser(interactions), { 1: [10], 5: [13] });
    t.match(summary, { rows: 8, kept: 2, skipped: 6 }, 'the first five are named');
    t.same(summary.skippedExamples, [
      `${file}:3: id is not a non-negative integer (user "abc", item "10")`,
      `${file}:4: id is not a non-negative integer (user "2", item "-3")`,
      `${file}:5: expected 3 fields, found 1`,
      `${file}:6: rating "five" is not a number`,
      `${file}:8: id does not fit in 31 bits`,
    ]);
    const truncated = join(t.testdir({ 'r.csv': 'user_id,book_id,rating\n1,10,5\n2,11' }), 'r.csv');
    const cut = await readPairs(truncated);
    t.match(cut.summary, { kept: 1, skipped: 1, skippedExamples: [`${truncated}:3: truncated last line`] });
  },
);

t.test('empty file, header only, nothing valid, file not found: errors naming the file', async (t) => {
  const dir = t.testdir({ 'empty.csv': '', 'header.csv': 'user,item\n', 'bad.csv': 'user,item\nx,y\n' });
  await t.rejects(readPairs(join(dir, 'empty.csv')), {
    code: 'DATA_EMPTY',
    message: `${join(dir, 'empty.csv')}: file is empty (no header line)`,
  });
  await t.rejects(readPairs(join(dir, 'header.csv')), {
    code: 'DATA_EMPTY',
    message: /no valid interaction rows$/,
  });
  await t.rejects(readPairs(join(dir, 'bad.csv')), {
    code: 'DATA_EMPTY',
    message: /no valid interaction rows \(first problem: .*bad\.csv:2: id is not/,
  });
  await t.rejects(readPairs(join(dir, 'nope.csv')), {
    code: 'DATA_MISSING',
    message: `${join(dir, 'nope.csv')}: file not found`,
  });
});

t.test(
  'to_read aligns to the ratings: same dense ids, unknown users and books dropped and counted',
  async (t) => {
    const dir = t.testdir({
      'ratings.csv': 'book_id,user_id,rating\n1,1,5\n2,1,4\n3,2,3\n',
      'to_read.csv': 'user_id,book_id\n1,3\n2,1\n2,1\n9,1\n1,77\n',
    });
    const reads = await loadInteractionsCsv(join(dir, 'ratings.csv'));
    const toRead = pairsToInteractions(await readPairs(join(dir, 'to_read.csv')), reads.interactions);
    t.equal(toRead.interactions.userIds, reads.interactions.userIds, 'shares the user id map');
    t.equal(toRead.interactions.itemIds, reads.interactions.itemIds, 'shares the item id map');
    t.same(byUser(toRead.interactions), { 1: [3], 2: [1] });
    t.match(
      toRead.summary,
      { rows: 5, kept: 2, duplicates: 1, skipped: 2 },
      'user 9 and book 77 are unknown',
    );
  },
);
