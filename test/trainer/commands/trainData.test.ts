import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../../cli/bookrec.js';
import { readPackage } from '../../../common/model/modelPackage.js';
import { mulberry32 } from '../../../trainer/random.js';
import { testContext } from '../../helpers/cliContext.js';

/**
 * `bookrec train` on small generated data in the generic layout (ratings.csv with user_id,item_id and
 * nothing else): readers of one of four series read several of its ten books, so item-to-item models
 * have something to learn. Book ids start at 0, as in amazon-book-82k.
 */
function writeRatings(dir: string, users: number, seed = 1): void {
  const rng = mulberry32(seed);
  const lines = ['user_id,item_id'];
  for (let u = 0; u < users; u++) {
    const series = Math.floor(rng() * 4);
    for (let b = 0; b < 10; b++) if (rng() < 0.6) lines.push(`${u},${series * 10 + b}`);
    lines.push(`${u},${40 + Math.floor(rng() * 8)}`);
  }
  writeFileSync(join(dir, 'ratings.csv'), `${lines.join('\n')}\n`);
}

const FAST = [
  '--quick',
  '--teacher-hidden',
  'none',
  '--mlp-hidden',
  '0',
  '--fan-in',
  '4',
  '--backend',
  'cpu',
];

async function train(data: string, out: string, extra: string[] = []) {
  const run = testContext();
  const code = await main(
    ['train', '--data', data, '--out', out, '--cache', join(out, 'cache'), ...FAST, ...extra],
    run.ctx,
  );
  return { code, ...run };
}

t.test('ratings alone train: books are spoken as "book <id>", the name comes from the folder', async (t) => {
  const root = t.testdir({ 'my-library': {} });
  const data = join(root, 'my-library');
  writeRatings(data, 1500);
  const out = join(root, 'out');
  const run = await train(data, out);
  t.equal(run.code, 0, run.err.join('\n'));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.equal(report.dataset, 'my-library');
  t.match(report.data.labels, /book <id>/);
  t.equal(report.data.books, 47, 'book id 0 is left out: the speaker names books by positive ids');
  t.equal(report.distillation.chosenBy, 'default');
  t.match(report.kdComparison, {
    metric: 'ndcg@10',
    student: 'student-kd',
    twin: 'student-nokd',
    users: Number,
  });
  t.ok(
    report.kdComparison.ci95[0] <= report.kdComparison.diff &&
      report.kdComparison.diff <= report.kdComparison.ci95[1],
  );
  t.ok(
    report.studentStartEnd.validation.end >= report.studentStartEnd.validation.start,
    'the refit ends no worse than its start',
  );
  const pkg = await readPackage(join(out, 'package'));
  t.equal(pkg.catalogue[0].title, 'book 1');
  t.match(pkg.manifest.modelId, /^my-library-student-/);
  pkg.model.dispose();
});

t.test('an items.csv label column and --dataset-name are used', async (t) => {
  const root = t.testdir({ data: {} });
  const data = join(root, 'data');
  writeRatings(data, 1500);
  writeFileSync(
    join(data, 'items.csv'),
    `item_id,isbn\n${Array.from({ length: 40 }, (_, i) => `${i},isbn-${i}`).join('\n')}\n`,
  );
  const out = join(root, 'out');
  const run = await train(data, out, ['--dataset-name', 'Shop books']);
  t.equal(run.code, 0, run.err.join('\n'));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.equal(report.dataset, 'Shop books');
  t.match(report.data.labels, /items\.csv column "isbn"/);
  const pkg = await readPackage(join(out, 'package'));
  t.equal(pkg.catalogue[0].title, 'isbn isbn-1');
  t.equal(pkg.catalogue[45].title, 'book 46', 'a book without a row in items.csv');
  t.match(pkg.manifest.modelId, /^Shop-books-student-/);
  pkg.model.dispose();
});

t.test('a failed check exits non-zero, names the check, and leaves no package', async (t) => {
  const root = t.testdir({ data: {} });
  const data = join(root, 'data');
  writeRatings(data, 1500);
  const out = join(root, 'out');
  const run = await train(data, out, ['--max-model-bytes', '1000']);
  t.equal(run.code, 1);
  // Both: the reason (which check, with its figures) and the error code, not either one alone.
  t.match(
    run.err.join('\n'),
    /the shipped student failed size-budget \(exported model \d+ bytes; required <= 1000 bytes\)/,
  );
  t.match(run.err.join('\n'), /TRAIN_REJECTED/);
  t.notOk(existsSync(join(out, 'package')), 'no package');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.equal(report.shipped.accepted, false);
  t.same(
    report.shipped.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name),
    ['size-budget'],
  );
  t.match(readFileSync(join(out, 'report.md'), 'utf8'), /\*\*Rejected\*\*/);
});

t.test('--from-grid sets a and T and says so; a bad grid file is named', async (t) => {
  const root = t.testdir({
    data: {},
    'grid.json': JSON.stringify({ chosen: { alpha: 0.25, temperature: 2 } }),
    'bad.json': '{}',
  });
  const data = join(root, 'data');
  writeRatings(data, 1500);
  const out = join(root, 'out');
  const run = await train(data, out, ['--from-grid', join(root, 'grid.json')]);
  t.equal(run.code, 0, run.err.join('\n'));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.match(report.distillation, { alpha: 0.25, temperature: 2, chosenBy: /chosen by bookrec grid/ });
  const bad = await train(data, join(root, 'out2'), ['--from-grid', join(root, 'bad.json')]);
  t.equal(bad.code, 1);
  t.match(bad.err.join('\n'), /--from-grid .*bad\.json: no "chosen"/);
});

t.test('too little data and too big a catalogue stop early with the numbers and the flag', async (t) => {
  const root = t.testdir({ small: {}, big: {} });
  writeRatings(join(root, 'small'), 300);
  const small = await train(join(root, 'small'), join(root, 'o1'));
  t.equal(small.code, 1);
  t.match(small.err.join('\n'), /\d+ test users with >= 5 reads \(of 300 users\); at least 100 are needed/);
  writeRatings(join(root, 'big'), 1500);
  const big = await train(join(root, 'big'), join(root, 'o2'), ['--max-memory-gb', '0.000001']);
  t.equal(big.code, 1);
  t.match(
    big.err.join('\n'),
    /needs about .* GB here, more than --max-memory-gb 0\.000001: keep fewer books \(--max-items N/,
  );
  const fan = await train(join(root, 'big'), join(root, 'o3'), ['--fan-in', '60']);
  t.equal(fan.code, 1);
  t.match(fan.err.join('\n'), /47 books cannot feed a fan-in of 60/);
});
