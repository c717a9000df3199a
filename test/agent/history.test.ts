import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { HistoryStore } from '../../agent/history.js';
import { createMemoryLogger } from '../../common/log.js';

const open = async (stateDir: string, extra: Partial<ConstructorParameters<typeof HistoryStore>[0]> = {}) => {
  const h = new HistoryStore({
    stateDir,
    log: createMemoryLogger(),
    maxEvents: 100,
    compactEvery: 1000,
    ...extra,
  });
  await h.start();
  return h;
};
const ev = (
  bookId: number,
  kind: 'finished' | 'liked' | 'skipped' = 'finished',
  at = 1_700_000_000_000 + bookId,
) => ({
  bookId,
  kind,
  at,
});

t.test('events survive a restart, in order, with kind and time', async (t) => {
  const dir = t.testdir();
  const h = await open(dir);
  await h.append(ev(1));
  await h.append(ev(2, 'liked'));
  await h.append(ev(3, 'skipped'));
  await h.stop();
  const again = await open(dir);
  t.same(
    again.entries().map((e) => [e.bookId, e.kind, e.at]),
    [
      [1, 'finished', ev(1).at],
      [2, 'liked', ev(2).at],
      [3, 'skipped', ev(3).at],
    ],
  );
  await again.stop();
});

t.test(
  'a torn last line (power cut mid-write) is ignored and cut off; later appends are clean',
  async (t) => {
    const dir = t.testdir();
    const h = await open(dir);
    await h.append(ev(1));
    await h.append(ev(2));
    await h.stop();
    await appendFile(join(dir, 'history.log'), '[3,77,"fini');
    const again = await open(dir);
    t.same(
      again.entries().map((e) => e.bookId),
      [1, 2],
    );
    t.equal(again.counters.tornLines, 1);
    await again.append(ev(4));
    await again.stop();
    const log = await readFile(join(dir, 'history.log'), 'utf8');
    t.notMatch(log, /\[3,77/, 'the torn bytes are gone from the log');
    const third = await open(dir);
    t.same(
      third.entries().map((e) => e.bookId),
      [1, 2, 4],
      'the event after the tear is intact',
    );
    t.equal(third.counters.tornLines, 0);
    await third.stop();
  },
);

t.test('garbage lines in the log are counted, not fatal', async (t) => {
  const dir = t.testdir();
  await writeFile(
    join(dir, 'history.log'),
    '[1,5,"finished",1]\nnot json\n[2,6,"bogus",1]\n[3,7,"liked",2]\n',
  );
  const h = await open(dir);
  t.same(
    h.entries().map((e) => e.bookId),
    [5, 7],
  );
  t.equal(h.counters.badLines, 2);
  await h.append(ev(8));
  t.equal(h.entries().at(-1)?.seq, 4, 'sequence numbers continue after the highest seen');
  await h.stop();
});

t.test(
  'compaction: snapshot + empty log; a crash before the log is emptied replays nothing twice',
  async (t) => {
    const dir = t.testdir();
    const h = await open(dir, { compactEvery: 5 });
    for (let i = 1; i <= 7; i++) await h.append(ev(i));
    await h.stop();
    const snap = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8'));
    t.equal(snap.seq, 5, 'the snapshot holds the first five');
    t.equal(
      (await readFile(join(dir, 'history.log'), 'utf8')).trim().split('\n').length,
      2,
      'the log holds the rest',
    );
    // Simulate a crash between writing the snapshot and emptying the log: put old lines back.
    await appendFile(join(dir, 'history.log'), '[4,4,"finished",1]\n[5,5,"finished",1]\n');
    const again = await open(dir, { compactEvery: 5 });
    t.same(
      again.entries().map((e) => e.bookId),
      [1, 2, 3, 4, 5, 6, 7],
      'lines already in the snapshot are skipped',
    );
    await again.stop();
  },
);

t.test('bounded: only the newest maxEvents stay, in memory and after compaction', async (t) => {
  const dir = t.testdir();
  const h = await open(dir, { maxEvents: 10, compactEvery: 4 });
  for (let i = 1; i <= 25; i++) await h.append(ev(i));
  t.equal(h.size, 10);
  t.equal(h.entries()[0].bookId, 16);
  await h.stop();
  const again = await open(dir, { maxEvents: 10, compactEvery: 4 });
  t.same(
    again.entries().map((e) => e.bookId),
    [16, 17, 18, 19, 20, 21, 22, 23, 24, 25],
  );
  await again.stop();
});

t.test('an unreadable snapshot is moved aside, the service starts', async (t) => {
  const dir = t.testdir({ 'history.json': '{"format":1,' });
  const h = await open(dir);
  t.equal(h.size, 0);
  await h.append(ev(1));
  await h.stop();
  const again = await open(dir);
  t.same(
    again.entries().map((e) => e.bookId),
    [1],
  );
  await again.stop();
});

t.test('appends racing each other all reach the disk', async (t) => {
  const dir = t.testdir();
  const h = await open(dir, { compactEvery: 7 });
  await Promise.all(Array.from({ length: 30 }, (_, i) => h.append(ev(i + 1))));
  await h.stop();
  const again = await open(dir, { compactEvery: 7 });
  t.same(
    again.entries().map((e) => e.bookId),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  await again.stop();
});
