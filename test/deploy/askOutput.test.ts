import t from 'tap';
import { replyForPeople } from '../../deploy/askOutput.js';

/** `bookrec ask` on a terminal (issue 21, item 13): the sentence and the books, not the raw JSON. */
const recommendation = {
  schema: 1,
  deviceId: 'kitchen',
  trigger: 'command',
  source: 'model',
  modelVersion: 3,
  books: [
    { id: 5, title: 'The Great Gatsby', authors: 'F. Scott Fitzgerald', score: 0.91 },
    { id: 9, title: 'Dune', authors: '', score: 0.5 },
  ],
  reason: 'because you finished Emma',
  basedOn: { id: 2, title: 'Emma', kind: 'finished' },
  text: 'Because you finished Emma, you might enjoy The Great Gatsby by F. Scott Fitzgerald.',
  at: '2026-01-05T20:15:00.000Z',
};
const now = new Date('2026-01-05T20:20:00.000Z');

t.test('recommend: the sentence, the numbered books, where they came from', async (t) => {
  t.equal(
    replyForPeople('kitchen', 'recommend', recommendation, now),
    [
      'Because you finished Emma, you might enjoy The Great Gatsby by F. Scott Fitzgerald.',
      '',
      ' 1. The Great Gatsby, F. Scott Fitzgerald',
      ' 2. Dune',
      '',
      'kitchen, model v3: because you finished Emma',
    ].join('\n'),
  );
  const fallback = replyForPeople('kitchen', 'recommend', { ...recommendation, source: 'fallback' }, now);
  t.match(fallback, /^kitchen, fallback list \(model v3\): /m);
});

t.test('status and quiet: one line each', async (t) => {
  const status = {
    schema: 1,
    deviceId: 'kitchen',
    state: 'online',
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'student', version: 3 },
    lastUpdate: { channel: 'stable', version: 3, result: 'installed', at: '2026-01-05T18:20:00.000Z' },
    uptimeSeconds: 7300,
    at: '2026-01-05T20:19:00.000Z',
  };
  t.equal(
    replyForPeople('kitchen', 'status', status, now),
    'kitchen: online, stable/student@3, agent 0.1.0, last update v3 installed 2 h ago, up 2 h',
  );
  t.equal(
    replyForPeople('kitchen', 'status', { ...status, model: null, lastUpdate: null, uptimeSeconds: 12 }, now),
    'kitchen: online, no model yet, agent 0.1.0, no update yet, up 12 s',
  );
  t.equal(replyForPeople('kitchen', 'quiet-on', { quiet: true }, now), 'kitchen: quiet mode on');
  t.equal(replyForPeople('kitchen', 'quiet-off', { quiet: false }, now), 'kitchen: quiet mode off');
});

t.test("a device's text never steers the terminal; an unknown shape is shown as JSON", async (t) => {
  const hostile = {
    ...recommendation,
    text: 'Read this\x1b]0;PWNED\x07 now',
    books: [{ id: 5, title: 'A\nB\u009b', authors: 'x', score: null }],
  };
  const shown = replyForPeople('kitchen', 'recommend', hostile, now);
  t.match(shown, /^Read this\\x1b\]0;PWNED\\x07 now$/m);
  t.match(shown, /^ 1\. A\\nB\\x9b, x$/m);
  t.notMatch(shown.replaceAll('\n', ''), /\p{Cc}/u);
  t.equal(
    replyForPeople('kitchen', 'status', { newer: 'shape\u2028' }, now),
    '{\n  "newer": "shape\\u2028"\n}',
  );
});
