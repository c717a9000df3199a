import { join } from 'node:path';
import t from 'tap';
import { loadReadingData } from '../../../trainer/data/goodbooks.js';
import { interactionCount, itemCount, userCount } from '../../../trainer/data/interactions.js';
import { realDataDir } from '../../helpers/realData.js';

const FILES = {
  'ratings.csv': 'user_id,book_id,rating\n1,1,5\n1,2,4\n2,2,3\n2,2,3\n',
  'to_read.csv': 'user_id,book_id\n1,2\n2,1\n3,1\n',
  'books.csv': 'book_id,authors,title\n1,A,"One, the first"\n2,B,"Two ""2"""\n',
};

t.test('ratings only by default; to_read and the catalogue when asked for', async (t) => {
  const dir = t.testdir(FILES);
  const plain = await loadReadingData(dir);
  t.equal(plain.toRead, undefined);
  t.equal(plain.catalogue, undefined);
  t.equal(interactionCount(plain.reads), 3);
  t.match(plain.summaries, [{ file: join(dir, 'ratings.csv'), duplicates: 1 }]);

  const all = await loadReadingData(dir, { toRead: true, catalogue: true });
  t.equal(interactionCount(all.toRead!), 2, 'user 3 is not in the ratings');
  t.equal(all.toRead!.itemIds, all.reads.itemIds, 'to_read uses the ratings item index');
  t.same(
    all.catalogue?.books.map((b) => b.title),
    ['One, the first', 'Two "2"'],
  );
  t.equal(all.summaries.length, 2, 'ratings and to_read summaries');
});

t.test('a folder without to_read still loads; asking for a missing books.csv is an error', async (t) => {
  const dir = t.testdir({ 'ratings.csv': FILES['ratings.csv'] });
  const data = await loadReadingData(dir, { toRead: true });
  t.equal(data.toRead, undefined);
  await t.rejects(loadReadingData(dir, { catalogue: true }), {
    code: 'DATA_MISSING',
    message: `${join(dir, 'books.csv')}: file not found`,
  });
});

t.test('a folder without ratings.csv says how to get the data', async (t) => {
  await t.rejects(loadReadingData(t.testdir({})), { code: 'DATA_MISSING', message: /bookrec data fetch/ });
});

t.test('the real goodbooks-10k copy loads in full', async (t) => {
  const dir = realDataDir(t);
  if (!dir) return;
  const data = await loadReadingData(dir, { toRead: true, catalogue: true });
  const [ratings, toRead] = data.summaries;
  t.equal(userCount(data.reads), 53424);
  t.equal(itemCount(data.reads), 10000);
  // 2,209 (book, user) pairs occur more than once, some three times: 2,278 surplus rows.
  t.equal(ratings.duplicates, 2278, 'the repeated pairs of v1 are dropped');
  t.equal(ratings.skipped, 0);
  t.equal(interactionCount(data.reads), ratings.rows - 2278);
  t.ok(toRead.kept > 800_000, `to_read aligned: ${toRead.kept} pairs`);
  const catalogue = data.catalogue!;
  t.equal(catalogue.books.length, 10000);
  t.equal(catalogue.summary.skipped, 0);
  t.equal(catalogue.byId.get(1)?.title, 'The Hunger Games (The Hunger Games, #1)');
  t.equal(catalogue.byId.get(221)?.title, 'A Child Called "It" (Dave Pelzer #1)');
  let unknown = 0;
  for (const id of data.reads.itemIds) if (!catalogue.byId.has(id)) unknown++;
  t.equal(unknown, 0, 'every rated book has a catalogue entry');
});
