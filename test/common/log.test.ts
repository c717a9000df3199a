import t from 'tap';
import { createLogger, createMemoryLogger, type LogFields } from '../../common/log.js';

t.test('JSON lines with namespace, level filtering and lazy fields', async (t) => {
  const lines: LogFields[] = [];
  const log = createLogger({ level: 'info', sink: (l) => lines.push(JSON.parse(l)) });
  let built = 0;
  log.debug('hidden', () => {
    built++;
    return { x: 1 };
  });
  log.child('mqtt').warn('reconnect', { attempt: 2 });
  t.equal(built, 0, 'fields of a filtered message are never built');
  t.equal(lines.length, 1);
  t.match(lines[0], { level: 'warn', ns: 'bookrec:mqtt', msg: 'reconnect', attempt: 2 });
});

t.test('per-namespace levels, longest prefix wins', async (t) => {
  const lines: LogFields[] = [];
  const opts = {
    level: 'warn' as const,
    levels: { 'bookrec:mqtt': 'debug' as const },
    sink: (l: string) => lines.push(JSON.parse(l)),
  };
  createLogger(opts).child('mqtt').debug('shown');
  createLogger(opts).child('tts').info('hidden');
  t.same(
    lines.map((l) => l.msg),
    ['shown'],
  );
});

t.test('secrets never reach a log line', async (t) => {
  const log = createMemoryLogger();
  log.info('connect', { url: 'mqtt://x', password: 'hunter2', privateKey: 'abc' });
  t.notMatch(JSON.stringify(log.lines), /hunter2|abc/);
  t.equal(log.lines[0].password, '[redacted]');
});

t.test(
  'text lines for a person at a terminal: local time, level, namespace, fields; secrets still redacted',
  async (t) => {
    const lines: string[] = [];
    const clock = () => new Date(2026, 0, 5, 9, 7, 3);
    const log = createLogger({ level: 'debug', format: 'text', clock, sink: (l) => lines.push(l) });
    log.child('mqtt').warn('reconnect', { attempt: 2, broker: 'mqtt://a b', password: 'hunter2', ok: true });
    log.info('started');
    log.error('failed', { stack: 'Error: x\n    at y' });
    t.same(lines.slice(0, 2), [
      '09:07:03 WARN  mqtt: reconnect attempt=2 broker="mqtt://a b" password=[redacted] ok=true',
      '09:07:03 INFO  started',
    ]);
    t.equal(lines[2], '09:07:03 ERROR failed stack=\n    Error: x\n        at y', 'a stack keeps its lines');
  },
);

t.test(
  "text lines spell out control characters: a stranger's ESC cannot reach the terminal, a newline cannot forge a line",
  async (t) => {
    const lines: string[] = [];
    const clock = () => new Date(2026, 0, 5, 9, 7, 3);
    const log = createLogger({ level: 'debug', format: 'text', clock, sink: (l) => lines.push(l) });
    // What a Hermes intent delivered as its siteId (issue 21, item 7).
    log.child('hermes').debug('hermes intent for another site: ignored', { siteId: '\x1b]0;TERMPWNED\x07' });
    log.warn('bad site', { siteId: 'x\n09:07:03 ERROR forged' });
    log.info('msg \x1b[2J\u009b', { 'k\r': { nested: 'a\u2028b\u202e', del: '\x7f' }, plain: 'a\\b' });
    log.error('failed', { stack: 'Error: x\n09:07:03 ERROR forged\x1b[31m\n    at y' });
    t.same(lines, [
      '09:07:03 DEBUG hermes: hermes intent for another site: ignored siteId="\\x1b]0;TERMPWNED\\x07"',
      '09:07:03 WARN  bad site siteId="x\\n09:07:03 ERROR forged"',
      '09:07:03 INFO  msg \\x1b[2J\\x9b k\\r={"nested":"a\\u2028b\\u202e","del":"\\x7f"} plain="a\\\\b"',
      '09:07:03 ERROR failed stack=\n    Error: x\n    09:07:03 ERROR forged\\x1b[31m\n        at y',
    ]);
    const printed = lines.join('\n');
    t.notMatch(
      printed.replaceAll('\n', ''),
      /[\p{Cc}\u2028\u2029\u202e]/u,
      'no control character but the stack newlines',
    );
    t.same(
      printed.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l)).length,
      4,
      'four entries, four lines that look like one: every other line is indented',
    );
  },
);

t.test('text numbers are rounded for a person; JSON keeps full precision', async (t) => {
  const text: string[] = [];
  const json: string[] = [];
  const fields = {
    rankMs: 1.39,
    ndcg10: 0.31094827,
    seconds: 1234.5678,
    big: 123456.7,
    tiny: 0.000123456,
    n: 7,
    metrics: { recall: 0.123456 },
  };
  createLogger({
    format: 'text',
    clock: () => new Date(2026, 0, 5, 9, 7, 3),
    sink: (l) => text.push(l),
  }).info('evaluated', fields);
  createLogger({ sink: (l) => json.push(l) }).info('evaluated', fields);
  t.equal(
    text[0],
    '09:07:03 INFO  evaluated rankMs=1.39 ndcg10=0.3109 seconds=1235 big=123457 tiny=0.0001235 n=7 metrics={"recall":0.1235}',
  );
  t.match(JSON.parse(json[0]), fields, 'JSON: the numbers as they were');
});

t.test('journald priorities: <3> error, <4> warn, <6> info, <7> debug before each line', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', priorities: true, sink: (l) => lines.push(l) });
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  t.same(
    lines.map((l) => l.slice(0, 3)),
    ['<3>', '<4>', '<6>', '<7>'],
  );
  t.match(
    JSON.parse(lines[1].slice(3)),
    { level: 'warn', msg: 'w' },
    'the rest of the line is the JSON object',
  );
});
