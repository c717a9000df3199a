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
