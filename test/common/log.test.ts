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
    t.equal(lines[2], '09:07:03 ERROR failed stack=\nError: x\n    at y', 'a stack keeps its lines');
  },
);

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
