import { join } from 'node:path';
import t from 'tap';
import { loadCatalogue } from '../../../trainer/data/books.js';
import { MAX_BROKEN } from '../../../trainer/data/csvRows.js';

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

t.test('broken quoting skips that row, named by its own line, and reads on', async (t) => {
  const dir = t.testdir({
    // A quote never closed in the middle: csv-parse reads to the end of the file for its closing quote.
    'open.csv': 'book_id,title,authors\n1,A,B\n\n2,"Cut off here,C\n3,D,E\n4,"F, G",H\n',
    'stray.csv': 'book_id,title,authors\n1,A,B\n2,"Closed" then text,C\n3,D,E\n',
    'end.csv': 'book_id,title,authors\n1,A,B\n2,"Cut off at the end',
  });
  const open = await loadCatalogue(join(dir, 'open.csv'));
  t.same(
    open.books.map((b) => [b.id, b.title]),
    [
      [1, 'A'],
      [3, 'D'],
      [4, 'F, G'],
    ],
    'the rows after the broken one are kept',
  );
  t.match(open.summary, { rows: 4, kept: 3, skipped: 1 });
  t.same(open.summary.skippedExamples, [
    `${join(dir, 'open.csv')}:4: a quote opened in this row is never closed (row left out)`,
  ]);
  const stray = await loadCatalogue(join(dir, 'stray.csv'));
  t.same(
    stray.books.map((b) => b.id),
    [1, 3],
  );
  t.match(stray.summary.skippedExamples, [new RegExp(`^${join(dir, 'stray.csv')}:3: Invalid Closing Quote`)]);
  const end = await loadCatalogue(join(dir, 'end.csv'));
  t.same(
    end.books.map((b) => b.id),
    [1],
  );
  t.same(end.summary.skippedExamples, [
    `${join(dir, 'end.csv')}:3: a quote opened in this row is never closed (row left out)`,
  ]);
});

t.test('a broken row far into a big file: every other row kept, the line exact', async (t) => {
  // Past one 64 KiB read, with two-byte characters: the resume offset is in bytes, not characters.
  const rows = Array.from({ length: 3000 }, (_, i) =>
    i === 1700 ? `${i + 1},"Ünclosed,Äuthor` : `${i + 1},"Tïtle, ${i + 1}",Äuthor`,
  );
  const file = join(
    t.testdir({ 'books.csv': ['book_id,title,authors', ...rows, ''].join('\n') }),
    'books.csv',
  );
  const { books, summary } = await loadCatalogue(file);
  t.equal(books.length, 2999);
  t.equal(books.at(-1)?.title, 'Tïtle, 3000');
  t.notOk(books.some((b) => b.id === 1701));
  t.same(summary.skippedExamples, [
    `${file}:1702: a quote opened in this row is never closed (row left out)`,
  ]);
});

t.test('a broken header, or nothing but broken rows, is an error', async (t) => {
  const many = Array.from({ length: MAX_BROKEN + 1 }, (_, i) => `${i},"x,y`).join('\n');
  const dir = t.testdir({
    'header.csv': 'book_id,"title,authors\n1,A,B\n',
    'many.csv': `book_id,title,authors\n${many}\n`,
  });
  await t.rejects(loadCatalogue(join(dir, 'header.csv')), {
    code: 'DATA_HEADER',
    message: `${join(dir, 'header.csv')}:1: header line unreadable: a quote opened in this row is never closed (row left out)`,
  });
  await t.rejects(loadCatalogue(join(dir, 'many.csv')), {
    code: 'DATA_CSV',
    message: new RegExp(`more than ${MAX_BROKEN} rows with broken quoting .*is it a CSV file\\?`),
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
