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
    t.same(intake.counters, { accepted: 2, malformed: 30, unknownBook: 1, duplicate: 0 });
    t.equal(history.size, 2);
    const warnings = log.lines.filter((l) => l.level === 'warn');
    t.equal(warnings.length, 10, 'at most ten warnings a minute');
    t.match(warnings[0], { msg: /not in the catalogue/, bookId: 700 });
    await history.stop();
  },
);

t.test(
  'intake: an event sent again (same book, kind and time) is stored once, also after a restart',
  async (t) => {
    const stateDir = t.testdir();
    const log = createMemoryLogger();
    const open = async () => {
      const history = new HistoryStore({ stateDir, log, maxEvents: 3, compactEvery: 2 });
      await history.start();
      const accepted: number[] = [];
      const intake = new SignalIntake({
        history,
        log,
        knows: () => undefined,
        now: () => NOW,
        onAccepted: (s) => accepted.push(s.bookId),
      });
      return { history, intake, accepted };
    };
    const event = (bookId: number, at = '2026-01-05T20:15:00Z') =>
      JSON.stringify({ bookId, kind: 'finished', at });

    const first = await open();
    await first.intake.text('mqtt', event(5));
    await first.intake.text('mqtt', event(5));
    await first.intake.text('mqtt', event(5, '2026-01-05T20:16:00Z'));
    t.same(first.intake.counters, { accepted: 2, malformed: 0, unknownBook: 0, duplicate: 1 });
    t.same(first.accepted, [5, 5], 'the repeat is not counted as a follow-up either');
    await first.history.stop();

    // After a restart (the broker resends what the device stored but had not acknowledged).
    const second = await open();
    await second.intake.text('mqtt', event(5));
    t.equal(second.history.size, 2, 'held across the restart');
    t.equal(second.intake.counters.duplicate, 1);

    // Bounded as the history: an event trimmed away is no longer known.
    await second.intake.text('mqtt', event(6));
    await second.intake.text('mqtt', event(7));
    t.same(
      second.history.entries().map((e) => e.bookId),
      [5, 6, 7],
    );
    await second.intake.text('mqtt', event(5));
    t.equal(second.intake.counters.duplicate, 1, 'the oldest left with its key');
    await second.history.stop();
  },
);
