import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { HistoryStore } from '../../agent/history.js';
import { Outbox } from '../../agent/outbox.js';
import { type QualityContext, QualityCounters } from '../../agent/qualityCounters.js';
import { SignalIntake } from '../../agent/signals/intake.js';
import { createMemoryLogger } from '../../common/log.js';
import { parseCounters } from '../../common/protocol/counters.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { FakeClock } from '../helpers/fakeClock.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-05T12:00:00Z');
const stable = (version: number) => ({ channel: 'stable', version });
// goodbooks-like ids large enough not to be mistaken for a count in the payload.
const BOOKS = [2767052, 41865, 4671];

function setup(stateDir: string, over: Partial<QualityContext> = {}) {
  let now = T0;
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const log = createMemoryLogger();
  const outbox = new Outbox({
    online: () => true,
    maxMessages: 10,
    log,
    publish: async (topic, payload, options) =>
      void published.push({ topic, payload, retain: options.retain }),
  });
  const quality = new QualityCounters({
    stateDir,
    outbox,
    topics: new TopicMap(),
    deviceId: 'dev-a',
    log,
    windowMs: 7 * DAY,
    publishEveryMs: 0,
    maxVersions: 8,
    maxPending: 100,
    saveDelayMs: 5,
    now: () => now,
    ...over,
  });
  return { quality, published, log, at: (ms: number) => (now = T0 + ms) };
}
const counts = (q: QualityCounters, version = 3) => q.snapshot().versions.find((v) => v.version === version);

t.test('follow-ups within the window count, per version; others do not', async (t) => {
  const { quality, at } = setup(t.testdir());
  await quality.start();
  quality.recommended(stable(3), BOOKS, T0);
  quality.signal({ bookId: BOOKS[1], kind: 'started', at: T0 + HOUR });
  quality.signal({ bookId: BOOKS[1], kind: 'progress', at: T0 + 2 * HOUR }); // started again: once
  quality.signal({ bookId: BOOKS[1], kind: 'read', at: T0 + 3 * DAY }); // read = finished
  quality.signal({ bookId: 99, kind: 'liked', at: T0 + HOUR }); // not recommended
  quality.signal({ bookId: BOOKS[0], kind: 'liked', at: T0 - HOUR }); // before the answer
  quality.signal({ bookId: BOOKS[2], kind: 'abandoned', at: T0 + HOUR }); // no outcome of its own
  t.same(counts(quality), {
    channel: 'stable',
    version: 3,
    recommendations: 1,
    accepted: 1,
    liked: 0,
    started: 1,
    finished: 1,
    skipped: 0,
    open: 1,
  });
  quality.recommended(stable(4), [BOOKS[0]], T0 + HOUR);
  quality.signal({ bookId: BOOKS[0], kind: 'skipped', at: T0 + 2 * HOUR });
  t.match(counts(quality, 4), { recommendations: 1, accepted: 0, skipped: 1 });
  t.match(counts(quality, 3), { skipped: 0 }, 'credited to the newest answer naming the book only');
  // After the window: the answer is closed, a late signal is not a follow-up.
  at(8 * DAY);
  quality.signal({ bookId: BOOKS[2], kind: 'liked', at: T0 + 8 * DAY });
  t.match(counts(quality, 3), { liked: 0, accepted: 1, open: 0 });
  await quality.stop();
});

t.test('the published payload carries counts only: no book ids', async (t) => {
  const { quality, published } = setup(t.testdir());
  await quality.start();
  await quality.publish();
  t.equal(published.length, 0, 'nothing to say before the first answer');
  quality.recommended(stable(3), BOOKS, T0);
  quality.signal({ bookId: BOOKS[0], kind: 'liked', at: T0 + HOUR });
  await quality.publish();
  t.equal(published.length, 1);
  const [m] = published;
  t.equal(m.topic, 'bookrec/devices/dev-a/counters');
  t.equal(m.retain, true, 'retained: the fleet view sees the latest');
  for (const id of BOOKS) t.notMatch(m.payload, String(id), `book ${id} is not in the payload`);
  t.notMatch(m.payload, /book/i);
  const parsed = parseCounters(Buffer.from(m.payload));
  t.ok(parsed.ok, 'the payload passes the strict parser');
  t.same(Object.keys(JSON.parse(m.payload)).sort(), [
    'at',
    'deviceId',
    'format',
    'versions',
    'windowSeconds',
  ]);
  await quality.publish();
  t.equal(published.length, 1, 'unchanged counters are not published again');
  await quality.publish(true);
  t.equal(published.length, 2, 'unless forced');
  await quality.stop();
});

t.test('counters and pending answers survive a restart', async (t) => {
  const dir = t.testdir();
  const first = setup(dir);
  await first.quality.start();
  first.quality.recommended(stable(3), BOOKS, T0);
  first.quality.signal({ bookId: BOOKS[0], kind: 'liked', at: T0 + HOUR });
  await first.quality.stop();
  const before = first.quality.snapshot();

  const second = setup(dir);
  await second.quality.start();
  t.same(second.quality.snapshot(), before, 'the same counts after a restart');
  second.quality.signal({ bookId: BOOKS[2], kind: 'finished', at: T0 + 2 * DAY });
  t.match(
    counts(second.quality),
    { accepted: 1, liked: 1, finished: 1 },
    'a pending answer is still matched',
  );
  await second.quality.stop();
  t.equal(second.published.length, 1, 'what was saved is published after a restart');
  const saved = await readFile(join(dir, 'quality.json'), 'utf8');
  t.match(saved, /"format":1/);
});

t.test('bounded: versions and pending answers', async (t) => {
  const { quality } = setup(t.testdir(), { maxVersions: 2, maxPending: 2 });
  await quality.start();
  quality.recommended(stable(1), [10], T0);
  quality.recommended(stable(2), [20], T0 + 1);
  quality.recommended(stable(3), [30], T0 + 2);
  t.same(
    quality.snapshot().versions.map((v) => v.version),
    [3, 2],
    'the least recently used version is dropped',
  );
  quality.recommended(stable(3), [31], T0 + 3);
  t.equal(quality.droppedPending, 2, 'the oldest answers leave the pending list early');
  quality.signal({ bookId: 20, kind: 'liked', at: T0 + HOUR });
  quality.signal({ bookId: 31, kind: 'liked', at: T0 + HOUR });
  t.match(counts(quality, 2), { liked: 0 });
  t.match(counts(quality, 3), { liked: 1, recommendations: 2 });
  await quality.stop();
});

t.test('a damaged state file starts from zero, logged, never thrown', async (t) => {
  for (const content of [
    '{',
    '{"format":2}',
    '{"format":1,"versions":[{"channel":"stable","version":3,"recommendations":1,"accepted":5,"liked":0,"started":0,"finished":0,"skipped":0,"lastAt":1}],"pending":[]}',
    '{"format":1,"versions":[],"pending":[{"channel":"stable"}]}',
  ]) {
    const dir = t.testdir();
    await writeFile(join(dir, 'quality.json'), content);
    const { quality, log } = setup(dir);
    await quality.start();
    t.same(quality.snapshot().versions, [], content);
    t.ok(log.lines.some((l) => l.msg === 'quality counters damaged: starting from zero'));
  }
});

t.test('the signal intake tells the counters about stored signals', async (t) => {
  const log = createMemoryLogger();
  const history = new HistoryStore({ stateDir: t.testdir(), log, maxEvents: 100, compactEvery: 100 });
  await history.start();
  const told: number[] = [];
  const intake = new SignalIntake({
    history,
    log,
    knows: () => (id) => id < 100,
    onAccepted: (s) => told.push(s.bookId),
  });
  await intake.text('mqtt', '{"bookId": 7, "kind": "liked"}');
  await intake.text('mqtt', '{"bookId": 700, "kind": "liked"}');
  t.same(told, [7], 'only stored signals');
  await history.stop();
});

t.test('saving: debounced, concurrent saves write the latest, a failing disk is logged', async (t) => {
  const dir = t.testdir();
  const { quality } = setup(dir, { saveDelayMs: 10_000 });
  await quality.start();
  quality.recommended(stable(3), BOOKS, T0);
  const first = quality.save();
  quality.signal({ bookId: BOOKS[0], kind: 'liked', at: T0 + HOUR });
  await Promise.all([first, quality.save(), quality.save()]);
  const saved = JSON.parse(await readFile(join(dir, 'quality.json'), 'utf8')) as {
    versions: { liked: number }[];
  };
  t.equal(saved.versions[0].liked, 1, 'the newest counts are on disk');

  const blocker = join(dir, 'not-a-folder');
  await writeFile(blocker, '');
  const broken = setup(join(blocker, 'state'));
  await broken.quality.start();
  broken.quality.recommended(stable(3), BOOKS, T0);
  await broken.quality.save();
  t.ok(broken.log.lines.some((l) => l.msg === 'saving quality counters failed'));
  t.match(broken.quality.snapshot().versions, [{ recommendations: 1 }], 'counting goes on');
});

t.test('the first change after start goes out soon, not a whole publish interval later', async (t) => {
  const clock = new FakeClock();
  const { quality, published } = setup(t.testdir(), {
    publishEveryMs: 3_600_000,
    firstPublishMs: 20,
    timers: clock,
  });
  await quality.start();
  quality.recommended(stable(3), BOOKS, T0);
  quality.recommended(stable(3), BOOKS, T0);
  await clock.advanceAsync(19);
  t.equal(published.length, 0, 'not before firstPublishMs');
  await clock.advanceAsync(1);
  t.equal(published.length, 1, 'one publish for both answers, at 20 ms');
  t.match(JSON.parse(published[0].payload), { versions: [{ version: 3, recommendations: 2 }] });
  quality.recommended(stable(3), BOOKS, T0);
  await clock.advanceAsync(3_600_000 - 21);
  t.equal(published.length, 1, 'later changes wait for the interval');
  await clock.advanceAsync(1);
  t.equal(published.length, 2, 'and go out when it comes');
  t.match(JSON.parse(published[1].payload), { versions: [{ version: 3, recommendations: 3 }] });
  await clock.advanceAsync(3_600_000);
  t.equal(published.length, 2, 'an interval with no change publishes nothing');
  // Stopped here, not in a teardown: its last save (real file I/O) must end before the test's folder goes.
  await quality.stop();
});
