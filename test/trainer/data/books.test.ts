import { join } from 'node:path';
import t from 'tap';
import { loadCatalogue } from '../../../trainer/data/books.js';

const HEADER =
  'book_id,goodreads_book_id,authors,original_publication_year,original_title,title,language_code,average_rating';

t.test('quoted titles with commas, doubled quotes and a line break; columns by name', async (t) => {
  const file = join(
    t.testdir({
      'books.csv': [
        HEADER,
        '1,2767052,Suzanne Collins,2008.0,The Hunger Games,"The Hunger Games (The Hunger Games, #1)",eng,4.34',
        '221,60748,Dave Pelzer,1995.0,"A Child Called ""It""","A Child Called ""It"" (Dave Pelzer #1)",en-US,4.08',
        '2,3,"J.K. Rowling, Mary GrandPré",1997.0,x,"Two\nlines",,4.44',
        '79,1,Homer,-720.0,,The Odyssey,eng,3.7',
        '5,1,Anon,,Original Only,,,3.0',
        '',
      ].join('\n'),
    }),
    'books.csv',
  );
  const { books, byId, summary } = await loadCatalogue(file);
  t.same(
    books.map((b) => b.id),
    [1, 2, 5, 79, 221],
    'ascending by id',
  );
  t.same(byId.get(1), {
    id: 1,
    title: 'The Hunger Games (The Hunger Games, #1)',
    authors: 'Suzanne Collins',
    year: 2008,
    language: 'eng',
  });
  t.same(byId.get(221), {
    id: 221,
    title: 'A Child Called "It" (Dave Pelzer #1)',
    authors: 'Dave Pelzer',
    year: 1995,
    language: 'en-US',
  });
  t.same(byId.get(2), { id: 2, title: 'Two\nlines', authors: 'J.K. Rowling, Mary GrandPré', year: 1997 });
  t.equal(byId.get(79)?.year, -720, 'years BC stay negative');
  t.same(byId.get(5), { id: 5, title: 'Original Only', authors: 'Anon' }, 'empty title: original_title');
  t.match(summary, { file, rows: 5, kept: 5, skipped: 0, duplicates: 0 });
});

t.test('only book_id, title and authors are required; other columns may be missing', async (t) => {
  const file = join(t.testdir({ 'b.csv': '\uFEFFTitle,Authors,Book_ID\r\n"A, B",C,3\r\n' }), 'b.csv');
  const { books } = await loadCatalogue(file);
  t.same(books, [{ id: 3, title: 'A, B', authors: 'C' }]);
});

t.test('a missing required column is an error naming file, line 1 and the columns', async (t) => {
  const file = join(t.testdir({ 'b.csv': 'book_id,original_title\n1,x\n' }), 'b.csv');
  await t.rejects(loadCatalogue(file), {
    code: 'DATA_HEADER',
    message: `${file}:1: header "book_id,original_title" has no title, authors column`,
  });
});

t.test('bad ids, duplicates and short rows are skipped, counted and named by line', async (t) => {
  const file = join(
    t.testdir({
      'books.csv': [
        'book_id,authors,title,language_code',
        '1,A,"First, book",eng',
        'one,B,Bad id,eng',
        '1,C,Again,eng',
        '"multi',
        'line",D,x,eng',
        '-4,E,Negative,eng',
        '2,F,"Short, row"',
        '3,G,Last,eng',
        '4,H,Trunc',
      ].join('\n'),
    }),
    'books.csv',
  );
  const { books, summary } = await loadCatalogue(file);
  t.same(
    books.map((b) => [b.id, b.title]),
    [
      [1, 'First, book'],
      [3, 'Last'],
    ],
  );
  t.match(summary, { rows: 8, kept: 2, duplicates: 1, skipped: 6 });
  t.same(summary.skippedExamples, [
    `${file}:3: book_id "one" is not a non-negative 31-bit integer`,
    `${file}:4: book_id 1 seen before (first one kept)`,
    `${file}:5: book_id "multi\nline" is not a non-negative 31-bit integer`,
    `${file}:7: book_id "-4" is not a non-negative 31-bit integer`,
    `${file}:8: expected 4 fields, found 3 (truncated line?)`,
  ]);
});

t.test('broken quoting is an error with the line: the parser cannot tell where rows end', async (t) => {
  const dir = t.testdir({
    'open.csv': 'book_id,title,authors\n1,A,B\n2,"Cut off here',
    'stray.csv': 'book_id,title,authors\n1,A,B\n2,"Closed" then text,C\n3,D,E\n',
  });
  await t.rejects(loadCatalogue(join(dir, 'open.csv')), {
    code: 'DATA_CSV',
    message: `${join(dir, 'open.csv')}:3: the file ends inside a quoted field (truncated file, or a quote never closed)`,
  });
  await t.rejects(loadCatalogue(join(dir, 'stray.csv')), {
    code: 'DATA_CSV',
    message: new RegExp(`^${join(dir, 'stray.csv')}:3: Invalid Closing Quote: got " "`),
  });
});

t.test('empty file, header only, file not found', async (t) => {
  const dir = t.testdir({
    'empty.csv': '',
    'header.csv': 'book_id,title,authors\n',
    'bad.csv': 'book_id,title,authors\nx,y,z\n',
  });
  await t.rejects(loadCatalogue(join(dir, 'empty.csv')), {
    code: 'DATA_EMPTY',
    message: `${join(dir, 'empty.csv')}: file is empty (no header line)`,
  });
  await t.rejects(loadCatalogue(join(dir, 'header.csv')), {
    code: 'DATA_EMPTY',
    message: /no valid book rows$/,
  });
  await t.rejects(loadCatalogue(join(dir, 'bad.csv')), {
    code: 'DATA_EMPTY',
    message: /no valid book rows \(first problem: .*bad\.csv:2: book_id "x"/,
  });
  await t.rejects(loadCatalogue(join(dir, 'nope.csv')), {
    code: 'DATA_MISSING',
    message: `${join(dir, 'nope.csv')}: file not found`,
  });
  await t.rejects(loadCatalogue(dir), { code: 'DATA_READ', message: `${dir}: cannot read (EISDIR)` });
});
