import { join } from 'node:path';
import t from 'tap';
import { loadItemLabels } from '../../../trainer/data/items.js';

t.test('a title column is spoken as it is', async (t) => {
  const dir = t.testdir({ 'items.csv': 'id,title,isbn\n1,Dune,x\n2,"Emma, a novel",y\n' });
  const labels = await loadItemLabels(join(dir, 'items.csv'));
  t.equal(labels.column, 'title');
  t.same(
    [...labels.byId],
    [
      [1, 'Dune'],
      [2, 'Emma, a novel'],
    ],
  );
});

t.test('without a title, the first other column is spoken with its name; bad rows are skipped', async (t) => {
  const dir = t.testdir({ 'items.csv': '\ufeffitem_id,isbn\n0,0060090383\nx,123\n7,\n5,0307279464\n' });
  const labels = await loadItemLabels(join(dir, 'items.csv'));
  t.equal(labels.column, 'isbn');
  t.same(
    [...labels.byId],
    [
      [0, 'isbn 0060090383'],
      [5, 'isbn 0307279464'],
    ],
  );
  t.equal(labels.skipped, 2);
});

t.test('bad files are named', async (t) => {
  const dir = t.testdir({ 'none.csv': 'isbn\n1\n', 'empty.csv': '' });
  await t.rejects(loadItemLabels(join(dir, 'none.csv')), {
    code: 'DATA_HEADER',
    message: `${join(dir, 'none.csv')}:1: header "isbn" needs an id column (item_id, book_id, item, book, id) and a label column`,
  });
  await t.rejects(loadItemLabels(join(dir, 'empty.csv')), { code: 'DATA_EMPTY' });
  await t.rejects(loadItemLabels(join(dir, 'missing.csv')), { code: 'DATA_MISSING' });
});

t.test(
  'a row with broken quoting is skipped and named by its line; the rows after it are kept',
  async (t) => {
    const file = join(
      t.testdir({ 'items.csv': 'id,title\n1,Dune\n2,"never closed\n3,Emma\nx,Bad id\n' }),
      'items.csv',
    );
    const labels = await loadItemLabels(file);
    t.same(
      [...labels.byId],
      [
        [1, 'Dune'],
        [3, 'Emma'],
      ],
    );
    t.equal(labels.skipped, 2);
    t.same(labels.skippedExamples, [
      `${file}:3: a quote opened in this row is never closed (row left out)`,
      `${file}:5: id "x" is not a number`,
    ]);
  },
);
