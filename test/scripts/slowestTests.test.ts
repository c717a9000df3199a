import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { defaultLimitMs, fileTimeMs, ownLimitMs, readTimes, table } from '../../scripts/slowestTests.js';

t.test(
  'a file time, its own limit, and the default limit are read as tap and the files write them',
  async (t) => {
    t.equal(fileTimeMs('TAP version 14\nok 1 - x\n1..1\n# time=1234.5ms\n'), 1234.5);
    t.equal(fileTimeMs('ok 1 - x # time=99ms\n1..1\n'), undefined, 'a subtest time is not the file time');
    t.equal(defaultLimitMs('jobs: 2\ntimeout: 300\n'), 300_000);
    t.equal(defaultLimitMs(''), 30_000, "tap's own default");
    t.equal(ownLimitMs('t.setTimeout(scaled(900_000));\n'), 900_000);
    t.equal(ownLimitMs('t.setTimeout(120000);\n'), 120_000);
    t.equal(ownLimitMs('t.setTimeout(2 * LIMIT + scaled(60_000));\n'), null, 'computed');
    t.equal(ownLimitMs('no limit here'), undefined);
  },
);

t.test('the slowest files first, each with its limit; over half its limit is flagged', async (t) => {
  const root = t.testdir();
  const results = join(root, '.tap', 'test-results', 'test', 'a');
  mkdirSync(results, { recursive: true });
  mkdirSync(join(root, 'test', 'a'), { recursive: true });
  writeFileSync(join(root, '.taprc'), 'timeout: 100\n');
  const file = (name: string, ms: number, source: string) => {
    writeFileSync(join(results, `${name}.tap`), `TAP version 14\nok 1 - x\n1..1\n# time=${ms}ms\n`);
    writeFileSync(join(root, 'test', 'a', name), source);
  };
  file('fast.test.ts', 1_000, '');
  file('slow.test.ts', 60_000, '');
  file('own.test.ts', 30_000, 't.setTimeout(scaled(40_000));\n');
  const times = readTimes(root);
  t.same(
    times.map((x) => [x.file, x.ms, x.limitMs]),
    [
      ['test/a/slow.test.ts', 60_000, 100_000],
      ['test/a/own.test.ts', 30_000, 40_000],
      ['test/a/fast.test.ts', 1_000, 100_000],
    ],
  );
  const text = table(times, 2);
  t.match(text, /3 files, 91 s of test time/);
  t.match(text, /60\.0 s\s+100 s\s+60%\s+test\/a\/slow\.test\.ts {2}OVER HALF ITS LIMIT/);
  t.match(text, /30\.0 s\s+40 s\s+75%\s+test\/a\/own\.test\.ts {2}OVER HALF ITS LIMIT/);
  t.notMatch(text, /fast\.test\.ts/, 'only the top 2');
});
