import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { testContext } from '../helpers/cliContext.js';

/** 40 users reading overlapping runs of 10 books: enough for a split with held-out users. */
function ratingsCsv(): string {
  const lines = ['book_id,user_id,rating'];
  for (let u = 1; u <= 40; u++) for (let k = 0; k < 8; k++) lines.push(`${((u + k) % 10) + 1},${u},4`);
  return `${lines.join('\n')}\n`;
}

t.test('help lists the commands; no command is a usage error', async (t) => {
  const a = testContext();
  t.equal(await main(['--help'], a.ctx), 0);
  t.match(a.out.join('\n'), /^ {2}evaluate {2,}evaluate baselines/m);
  const b = testContext();
  t.equal(await main([], b.ctx), 2);
});

t.test('unknown command and unknown flag fail with a one-line reason', async (t) => {
  const a = testContext();
  t.equal(await main(['frobnicate'], a.ctx), 2);
  t.match(a.err.join('\n'), /unknown command "frobnicate"/);
  const b = testContext();
  t.equal(await main(['evaluate', '--dta', 'x'], b.ctx), 2);
  t.match(b.err.join('\n'), /unknown option --dta/);
});

t.test('evaluate --help shows the settings', async (t) => {
  const a = testContext();
  t.equal(await main(['evaluate', '--help'], a.ctx), 0);
  t.match(a.out.join('\n'), /--models/);
});

t.test('evaluate writes the results format and prints a table', async (t) => {
  const dir = t.testdir({ 'ratings.csv': ratingsCsv() });
  const out = join(dir, 'r.json');
  const a = testContext();
  t.equal(
    await main(['evaluate', '--data', dir, '--models', 'pop', '--out', out], a.ctx),
    0,
    a.err.join('\n'),
  );
  const results = JSON.parse(readFileSync(out, 'utf8'));
  t.match(results, { dataset: basename(dir), seed: 42, split: { trainUsers: 32 } }, 'named after its folder');
  t.equal(results.models[0].name, 'pop');
  t.type(results.models[0].metrics['ndcg@10'], 'number');
  t.match(a.out[0], /\| pop \|/);
});

t.test('a missing data folder fails with exit 1 and says how to get the data', async (t) => {
  const a = testContext();
  t.equal(await main(['evaluate', '--data', '/nonexistent/gb', '--models', 'pop'], a.ctx), 1);
  t.match(a.err.join('\n'), /ratings\.csv not found.*bookrec data fetch.*\[DATA_MISSING\]/);
});

t.test('an unknown model name is a usage error', async (t) => {
  const dir = t.testdir({ 'ratings.csv': ratingsCsv() });
  const a = testContext();
  t.equal(await main(['evaluate', '--data', dir, '--models', 'magic'], a.ctx), 2);
  t.match(a.err.join('\n'), /unknown model "magic"/);
});
