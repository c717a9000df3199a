import { appendFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { JsonlFollower } from '../../../agent/signals/jsonlFollower.js';
import { createMemoryLogger } from '../../../common/log.js';

function follower(dir: string, extra: Partial<ConstructorParameters<typeof JsonlFollower>[0]> = {}) {
  const lines: string[] = [];
  const f = new JsonlFollower({
    file: join(dir, 'signals.jsonl'),
    positionFile: join(dir, 'signals.pos'),
    pollMs: 60_000, // polls are driven by hand with poll()
    maxLineBytes: 64,
    log: createMemoryLogger(),
    onLine: (l) => {
      lines.push(l);
    },
    ...extra,
  });
  return { f, lines };
}

t.test('new lines, a line split across writes, and a restart that resumes where it stopped', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals.jsonl');
  const { f, lines } = follower(dir);
  await f.start();
  await f.poll();
  t.same(lines, [], 'a missing file is waited for');
  await writeFile(file, 'a\nb\npart');
  await f.poll();
  t.same(lines, ['a', 'b'], 'an unfinished line waits');
  await appendFile(file, 'ial\n\n  \nc\n');
  await f.poll();
  t.same(lines, ['a', 'b', 'partial', 'c'], 'blank lines are skipped');
  await f.stop();
  await appendFile(file, 'd\n');
  const again = follower(dir);
  await again.f.start();
  await again.f.poll();
  t.same(again.lines, ['d'], 'nothing repeated, nothing skipped');
  await again.f.stop();
});

t.test(
  'rotation (rename + new file): the old file is read to its end, then the new one from the start',
  async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'signals.jsonl');
    const { f, lines } = follower(dir);
    await writeFile(file, '1\n');
    await f.start();
    await f.poll();
    await appendFile(file, '2\n3');
    await rename(file, `${file}.1`);
    await writeFile(file, '4\n');
    await f.poll();
    t.same(
      lines,
      ['1', '2', '3', '4'],
      'the tail of the rotated file, its unterminated last line, then the new file',
    );
    t.equal(f.counters.rotations, 1);
    await unlink(file);
    await f.poll();
    await writeFile(file, '5\n');
    await f.poll();
    t.same(lines.slice(4), ['5'], 'removed and created again');
    await f.stop();
  },
);

t.test('copytruncate: a shorter file is read again from the start', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals.jsonl');
  const { f, lines } = follower(dir);
  await writeFile(file, 'one\ntwo\n');
  await f.start();
  await f.poll();
  await truncate(file, 0);
  await appendFile(file, 'x\n');
  await f.poll();
  t.same(lines, ['one', 'two', 'x']);
  t.equal(f.counters.truncations, 1);
  await f.stop();
});

t.test('a line longer than the limit is dropped and counted, memory stays bounded', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals.jsonl');
  const { f, lines } = follower(dir);
  await f.start();
  await writeFile(file, `ok1\n${'x'.repeat(40)}`);
  await f.poll();
  await appendFile(file, `${'y'.repeat(100_000)}\nok2\n${'z'.repeat(65)}\nok3\n`);
  await f.poll();
  t.same(lines, ['ok1', 'ok2', 'ok3']);
  t.equal(f.counters.tooLong, 2);
  await f.stop();
});

t.test('the timer polls by itself', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'signals.jsonl');
  const { f, lines } = follower(dir, { pollMs: 20 });
  await f.start();
  await writeFile(file, 'tick\n');
  const end = Date.now() + 3000;
  while (lines.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  t.same(lines, ['tick']);
  await f.stop();
});
