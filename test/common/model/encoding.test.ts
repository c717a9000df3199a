import t from 'tap';
import {
  DEFAULT_ENCODING,
  encodeHistory,
  type HistoryEvent,
  type InputEncoding,
  validateEncoding,
} from '../../../common/model/encoding.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const base: InputEncoding = {
  ...DEFAULT_ENCODING,
  eventWeights: { ...DEFAULT_ENCODING.eventWeights },
  items: 10,
};

function ev(index: number, kind: HistoryEvent['kind'], ago = 1): HistoryEvent {
  return { index, kind, at: daysAgo(ago) };
}

t.test('the default encoding is the documented one and cannot be changed in place', async (t) => {
  t.same(DEFAULT_ENCODING, {
    kind: 'weighted-history',
    eventWeights: { finished: 1, liked: 1, read: 1, started: 0.5, progress: 0.5, abandoned: 0.1, skipped: 0 },
    recencyHalfLifeDays: null,
    maxHistory: 500,
  });
  t.ok(Object.isFrozen(DEFAULT_ENCODING) && Object.isFrozen(DEFAULT_ENCODING.eventWeights));
});

t.test('weights are summed per item and clamped to [0, max weight]', async (t) => {
  const x = encodeHistory(
    base,
    [
      ev(2, 'finished'),
      ev(2, 'liked'), // 1 + 1 = 2, clamped to 1
      ev(5, 'started'), // 0.5
      ev(7, 'started'),
      ev(7, 'progress'), // 0.5 + 0.5 = 1
      ev(8, 'abandoned'), // 0.1
      ev(9, 'skipped'), // 0
      ev(3, 'read'), // 1
      ev(4, 'started'),
      ev(4, 'abandoned'), // 0.6
    ],
    NOW,
  );
  t.same([...x], [0, 0, 1, 1, 0.6, 0.5, 0, 1, 0.1, 0].map(Math.fround));
  t.same([...encodeHistory(base, [], NOW)], new Array(10).fill(0), 'no history: all zeros');
  const reused = new Float32Array(10).fill(9);
  t.equal(encodeHistory(base, [ev(1, 'finished')], NOW, reused), reused, 'written into the given buffer');
  t.same([...reused], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'which is cleared first');
  t.throws(() => encodeHistory(base, [], NOW, new Float32Array(9)), { code: 'ENCODING_INPUT' });
});

t.test('negative weights cancel but never go below zero', async (t) => {
  const enc: InputEncoding = { ...base, eventWeights: { ...base.eventWeights, skipped: -1 } };
  const x = encodeHistory(
    enc,
    [
      ev(1, 'liked'),
      ev(1, 'skipped'),
      ev(2, 'skipped'),
      ev(3, 'finished'),
      ev(3, 'skipped'),
      ev(3, 'finished'),
    ],
    NOW,
  );
  t.same([...x.slice(0, 4)], [0, 0, 0, 1]);
});

t.test('recency decay halves an item per half-life since its latest event', async (t) => {
  const enc: InputEncoding = { ...base, recencyHalfLifeDays: 10 };
  const x = encodeHistory(
    enc,
    [
      ev(0, 'finished', 10), // 1 * 0.5
      ev(1, 'started', 20), // 0.5 * 0.25
      ev(2, 'finished', 30),
      ev(2, 'started', 0), // (1 + 0.5 -> 1) * 1: the latest event sets the age
      { index: 3, kind: 'liked', at: new Date(NOW.getTime() + 86_400_000) }, // future: counts as now
      ev(4, 'read', 5), // 2^-0.5
    ],
    NOW,
  );
  t.same([...x.slice(0, 5)], [0.5, 0.125, 1, 1, Math.SQRT1_2].map(Math.fround));
});

t.test('only the most recent maxHistory items count; zero-valued items do not take a place', async (t) => {
  const enc: InputEncoding = { ...base, maxHistory: 2 };
  const x = encodeHistory(
    enc,
    [
      ev(1, 'finished', 30),
      ev(2, 'finished', 20),
      ev(3, 'finished', 10),
      ev(1, 'progress', 5), // item 1's latest event is now 5 days ago: it is the most recent
      ev(4, 'skipped', 1), // value 0: does not push item 3 out
    ],
    NOW,
  );
  t.same([...x.slice(0, 5)], [0, 1, 0, 1, 0]);
  const tie = encodeHistory({ ...base, maxHistory: 1 }, [ev(6, 'liked', 3), ev(5, 'liked', 3)], NOW);
  t.same([...tie.slice(5, 7)], [1, 0], 'equal times: the lower index wins');
});

t.test('bad events are refused', async (t) => {
  t.throws(() => encodeHistory(base, [ev(10, 'liked')], NOW), {
    code: 'ENCODING_INPUT',
    message: /index 10/,
  });
  t.throws(() => encodeHistory(base, [ev(-1, 'liked')], NOW), { code: 'ENCODING_INPUT' });
  t.throws(() => encodeHistory(base, [{ index: 1, kind: 'loved' as 'liked', at: NOW }], NOW), {
    message: /unknown history event kind "loved"/,
  });
  t.throws(() => encodeHistory(base, [{ index: 1, kind: 'liked', at: new Date('nope') }], NOW), {
    message: /no valid date/,
  });
});

t.test('validateEncoding accepts a good encoding and names the field of a bad one', async (t) => {
  const json = JSON.parse(JSON.stringify(base));
  t.same(validateEncoding(json, 'p.json'), base);
  t.same(validateEncoding({ ...json, recencyHalfLifeDays: 30 }, 'p.json').recencyHalfLifeDays, 30);
  const bad: [string, unknown, RegExp][] = [
    [
      'kind',
      { ...json, kind: 'bag-of-words' },
      /p.json: encoding.kind "bag-of-words" is not a known encoding/,
    ],
    ['items', { ...json, items: 0 }, /encoding.items must be an integer >= 1, not 0/],
    ['items type', { ...json, items: '10' }, /encoding.items must be an integer, not "10"/],
    [
      'missing weight',
      { ...json, eventWeights: { ...json.eventWeights, read: undefined } },
      /eventWeights.read is missing/,
    ],
    [
      'extra weight',
      { ...json, eventWeights: { ...json.eventWeights, shared: 1 } },
      /eventWeights.shared is not a known field/,
    ],
    [
      'zero weights',
      {
        ...json,
        eventWeights: { finished: 0, liked: 0, started: 0, progress: 0, abandoned: 0, skipped: 0, read: 0 },
      },
      /at least one event kind/,
    ],
    [
      'half-life',
      { ...json, recencyHalfLifeDays: 0 },
      /recencyHalfLifeDays must be a number > 0, not 0 or null/,
    ],
    ['maxHistory', { ...json, maxHistory: 2.5 }, /maxHistory must be an integer, not 2.5/],
    ['extra field', { ...json, temperature: 1 }, /encoding.temperature is not a known field/],
    ['not an object', [1], /encoding must be a JSON object/],
  ];
  for (const [what, value, message] of bad) {
    t.throws(
      () => validateEncoding(JSON.parse(JSON.stringify(value)), 'p.json'),
      { code: 'PACKAGE_INVALID', message },
      what,
    );
  }
});
