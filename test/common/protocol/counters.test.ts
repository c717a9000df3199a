import t from 'tap';
import { COUNTERS_FORMAT, MAX_COUNTERS_BYTES, parseCounters } from '../../../common/protocol/counters.js';

const entry = (extra: Record<string, unknown> = {}) => ({
  channel: 'stable',
  version: 3,
  recommendations: 10,
  accepted: 4,
  liked: 1,
  started: 3,
  finished: 2,
  skipped: 1,
  open: 2,
  ...extra,
});
const payload = (extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      format: COUNTERS_FORMAT,
      deviceId: 'dev-a',
      windowSeconds: 604800,
      versions: [entry()],
      at: '2026-01-01T00:00:00.000Z',
      ...extra,
    }),
  );

t.test('a well-formed payload parses', async (t) => {
  const r = parseCounters(payload());
  t.ok(r.ok);
  if (r.ok) t.same(r.counters.versions, [entry()]);
});

t.test('malformed counters are refused with a clear reason', async (t) => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('{'), /not valid JSON/],
    [Buffer.from('[]'), /not a JSON object/],
    [Buffer.alloc(MAX_COUNTERS_BYTES + 1, 32), /at most 16384/],
    [payload({ format: 2 }), /format must be 1, got 2/],
    [payload({ deviceId: 'a/b' }), /deviceId/],
    [payload({ windowSeconds: 0 }), /windowSeconds/],
    [payload({ at: 'yesterday' }), /at must be/],
    [payload({ versions: {} }), /versions must be an array/],
    [payload({ books: [1, 2] }), /unknown field books/],
    [payload({ versions: [entry({ bookIds: [5] })] }), /unknown field versions\[0\]\.bookIds/],
    [payload({ versions: [entry({ channel: '+' })] }), /versions\[0\]\.channel/],
    [payload({ versions: [entry({ version: 0 })] }), /versions\[0\]\.version/],
    [payload({ versions: [entry({ liked: -1 })] }), /versions\[0\]\.liked must be a non-negative integer/],
    [payload({ versions: [entry({ skipped: 1.5 })] }), /skipped must be a non-negative integer/],
    [payload({ versions: [entry({ accepted: 11 })] }), /accepted \(11\) exceeds recommendations \(10\)/],
    [payload({ versions: [entry({ accepted: 2 })] }), /accepted \(2\) does not fit/],
    [payload({ versions: [entry({ accepted: 7, started: 3, liked: 1, finished: 2 })] }), /does not fit/],
    [payload({ versions: [entry(), entry()] }), /stable@3 appears twice/],
    [payload({ versions: [null] }), /versions\[0\]: expected object/],
    [payload({ versions: Array.from({ length: 33 }, (_, i) => entry({ version: i + 1 })) }), /at most 32/],
  ];
  for (const [p, reason] of cases) {
    const r = parseCounters(p);
    t.notOk(r.ok, String(reason));
    if (!r.ok) t.match(r.reason, reason);
  }
});
