import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { PROFILES, prepare } from '../../../trainer/distill/prepare.js';
import { dataLines } from '../../../trainer/report/trainReport.js';

/**
 * The labels files are optional: a books.csv or items.csv with bad rows costs those rows (counted, the
 * first few named by line in the log and the report), one that cannot be used at all costs the labels
 * ("book <id>", with a warning), never the training.
 */
function ratings(): string {
  // 200 readers of 12 books, each reading 8: enough test users for prepare's checks.
  const lines = ['user_id,book_id,rating'];
  for (let u = 1; u <= 200; u++) for (let k = 0; k < 8; k++) lines.push(`${u},${((u + k * 5) % 12) + 1},4`);
  return `${lines.join('\n')}\n`;
}

function booksCsv(rows: string[]): string {
  return ['book_id,title,authors', ...rows, ''].join('\n');
}

const GOOD_ROWS = Array.from({ length: 12 }, (_, i) => `${i + 1},Title ${i + 1},Author`);

async function prepared(files: Record<string, string>) {
  const dir = t.testdir({ 'ratings.csv': ratings(), ...files });
  const log = createMemoryLogger('info');
  const prep = await prepare(dir, 1, PROFILES.quick, log, { minTestUsers: 1 });
  return { dir, log, prep, title: (id: number) => prep.catalogue.find((b) => b.id === id)?.title };
}

t.test(
  'books.csv with a quote never closed and junk rows: the rest is kept, the skipped named',
  async (t) => {
    const rows = [...GOOD_ROWS];
    rows[3] = '4,"Unclosed title,Author';
    rows.splice(6, 0, 'junk,row,here');
    const { dir, log, prep, title } = await prepared({ 'books.csv': booksCsv(rows) });
    const file = join(dir, 'books.csv');
    t.equal(prep.labels, 'books.csv');
    t.equal(title(5), 'Title 5', 'the rows after the broken one are kept');
    t.equal(title(4), 'book 4', 'the broken row: "book <id>"');
    const warned = log.lines.find((l) => l.msg === 'label rows skipped');
    t.match(warned, {
      level: 'warn',
      file,
      skipped: 2,
      examples: [
        `${file}:5: a quote opened in this row is never closed (row left out)`,
        `${file}:8: book_id "junk" is not a non-negative 31-bit integer`,
      ],
    });
    t.same(prep.labelNotes, [
      `${file}: 2 rows skipped, e.g. 5: a quote opened in this row is never closed (row left out); 8: book_id "junk" is not a non-negative 31-bit integer`,
    ]);
    t.same(
      dataLines({ books: 12, labels: prep.labels, interactions: 1600, labelNotes: prep.labelNotes }),
      ['Data: 12 books, 1,600 reads; spoken labels from books.csv.', `- ${prep.labelNotes[0]}`],
      'report.md says it under the data line',
    );
  },
);

t.test('a books.csv that cannot be used: "book <id>" with a warning, the training goes on', async (t) => {
  const { dir, log, prep, title } = await prepared({ 'books.csv': 'book_id,"title,authors\n1,A,B\n' });
  const file = join(dir, 'books.csv');
  t.equal(prep.labels, 'none: "book <id>"');
  t.equal(title(1), 'book 1');
  t.match(
    log.lines.find((l) => l.msg === 'labels file not used: books are spoken as "book <id>"'),
    {
      level: 'warn',
      file,
      error: `${file}:1: header line unreadable: a quote opened in this row is never closed (row left out)`,
    },
  );
  t.match(prep.labelNotes, [
    new RegExp(`^${file} not used \\(.*header line unreadable.*\\): books are spoken as "book <id>"$`),
  ]);
});

t.test('items.csv: broken rows skipped and named; an unusable one falls back', async (t) => {
  const good = await prepared({ 'items.csv': 'id,title\n1,Dune\n2,"Open\n3,Emma\n' });
  t.equal(good.title(1), 'Dune');
  t.equal(good.title(2), 'book 2');
  t.equal(good.title(3), 'Emma');
  t.match(good.prep.labelNotes, [
    /items\.csv: 1 rows skipped, e\.g\. 3: a quote opened in this row is never closed/,
  ]);
  const bad = await prepared({ 'items.csv': 'isbn\n1\n' });
  t.equal(bad.prep.labels, 'none: "book <id>"');
  t.match(bad.prep.labelNotes, [/items\.csv not used \(.*needs an id column.*\)/]);
});

t.test('clean labels: no notes, no warnings', async (t) => {
  const { log, prep } = await prepared({ 'books.csv': booksCsv(GOOD_ROWS) });
  t.same(prep.labelNotes, []);
  t.same(
    log.lines.filter((l) => l.level === 'warn'),
    [],
  );
});
