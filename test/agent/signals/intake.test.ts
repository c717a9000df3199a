import t from 'tap';
import { HistoryStore } from '../../../agent/history.js';
import { SignalIntake } from '../../../agent/signals/intake.js';
import { createMemoryLogger } from '../../../common/log.js';
import { parseSignal } from '../../../common/protocol/signals.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');

t.test('signal format: what is accepted and why the rest is not', async (t) => {
  t.same(parseSignal({ bookId: 5, kind: 'finished', at: '2026-01-05T20:15:00Z' }, NOW), {
    ok: true,
    signal: { bookId: 5, kind: 'finished', at: Date.parse('2026-01-05T20:15:00Z') },
  });
  t.same(parseSignal({ bookId: 5, kind: 'liked' }, NOW), {
    ok: true,
    signal: { bookId: 5, kind: 'liked', at: NOW },
  });
  const bad: [unknown, RegExp][] = [
    [[1], /object/],
    [{ bookId: '5', kind: 'finished' }, /bookId/],
    [{ bookId: 0, kind: 'finished' }, /bookId/],
    [{ bookId: 5, kind: 'burned' }, /kind/],
    [{ bookId: 5, kind: 'finished', at: 'yesterday' }, /at/],
    [{ bookId: 5, kind: 'finished', at: '2027-01-01T00:00:00Z' }, /future/],
    [{ bookId: 5, kind: 'finished', user: 'x' }, /unknown field user/],
  ];
  for (const [value, reason] of bad)
    t.match(parseSignal(value, NOW), { ok: false, reason }, JSON.stringify(value));
});

t.test(
  'intake: malformed and unknown books are counted and logged (rate-limited), never thrown',
  async (t) => {
    const log = createMemoryLogger();
    const history = new HistoryStore({ stateDir: t.testdir(), log, maxEvents: 100, compactEvery: 100 });
    await history.start();
    let known: ((id: number) => boolean) | undefined;
    const intake = new SignalIntake({ history, log, knows: () => known, now: () => NOW });
    await intake.text('file', '{"bookId": 77, "kind": "finished"}');
    t.equal(history.size, 1, 'without a model every well-formed event is kept');
    known = (id) => id < 100;
    await intake.text('file', '{"bookId": 7, "kind": "liked"}');
    await intake.text('file', '{"bookId": 700, "kind": "liked"}');
    for (let i = 0; i < 30; i++) await intake.text('mqtt', '{"bookId": ');
    t.same(intake.counters, { accepted: 2, malformed: 30, unknownBook: 1 });
    t.equal(history.size, 2);
    const warnings = log.lines.filter((l) => l.level === 'warn');
    t.equal(warnings.length, 10, 'at most ten warnings a minute');
    t.match(warnings[0], { msg: /not in the catalogue/, bookId: 700 });
    await history.stop();
  },
);
