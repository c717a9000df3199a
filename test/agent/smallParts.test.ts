import t from 'tap';
import { Outbox } from '../../agent/outbox.js';
import { isQuietTime } from '../../agent/quietHours.js';
import { SystemdNotify } from '../../agent/systemdNotify.js';
import { agentVersion } from '../../agent/version.js';
import { createMemoryLogger } from '../../common/log.js';
import { FakeClock } from '../helpers/fakeClock.js';

const at = (hh: number, mm = 0) => new Date(2026, 0, 5, hh, mm);

t.test('quiet hours, also across midnight', async (t) => {
  t.equal(isQuietTime(at(23), '', ''), false, 'not configured');
  t.equal(isQuietTime(at(23), '22:00', '07:00'), true);
  t.equal(isQuietTime(at(3, 30), '22:00', '07:00'), true);
  t.equal(isQuietTime(at(7), '22:00', '07:00'), false, 'the end is exclusive');
  t.equal(isQuietTime(at(21, 59), '22:00', '07:00'), false);
  t.equal(isQuietTime(at(13), '12:30', '14:00'), true);
  t.equal(isQuietTime(at(14), '12:30', '14:00'), false);
  t.equal(isQuietTime(at(13), '09:00', '09:00'), false, 'an empty window, not the whole day');
});

t.test('outbox: bounded while offline, says what it drops, coalesces by key, flushes in order', async (t) => {
  const log = createMemoryLogger();
  let online = false;
  const sent: string[] = [];
  let failNext = false;
  const outbox = new Outbox({
    online: () => online,
    maxMessages: 3,
    log,
    publish: async (topic, payload) => {
      if (failNext) {
        failNext = false;
        throw new Error('TIMEOUT');
      }
      sent.push(`${topic}:${payload}`);
    },
  });
  const msg = (topic: string, payload: string, key?: string) => ({
    topic,
    payload,
    options: { retain: false },
    key,
  });
  await outbox.send(msg('status', 'online-1', 'status'));
  await outbox.send(msg('rec', 'a'));
  await outbox.send(msg('rec', 'b'));
  await outbox.send(msg('status', 'online-2', 'status'));
  t.equal(outbox.size, 3, 'the second status replaced the first');
  await outbox.send(msg('rec', 'c'));
  t.equal(outbox.size, 3);
  t.equal(outbox.dropped, 1);
  t.match(
    log.lines.find((l) => l.msg === 'outbox full: oldest message dropped'),
    { topic: 'status', droppedTotal: 1 },
  );
  online = true;
  failNext = true;
  await outbox.flush();
  t.same(sent, [], 'a failed publish keeps the queue for later');
  t.equal(outbox.size, 3);
  await outbox.flush();
  t.same(sent, ['rec:a', 'rec:b', 'rec:c']);
  t.equal(outbox.size, 0);
  await outbox.send(msg('rec', 'd'));
  t.same(sent.at(-1), 'rec:d', 'online: sent at once');
});

t.test('systemd notify: a no-op off systemd; READY, watchdog pings and STOPPING under it', async (t) => {
  const calls: string[][] = [];
  const run = async (args: string[]) => void calls.push(args);
  const off = new SystemdNotify({ env: {}, log: createMemoryLogger(), run });
  await off.ready('x');
  await off.stopping();
  t.same(calls, [], 'NOTIFY_SOCKET unset: nothing is run');
  t.equal(off.watchdogMs, undefined);

  const clock = new FakeClock();
  const on = new SystemdNotify({
    env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '400000' },
    log: createMemoryLogger(),
    run,
    timers: clock,
  });
  t.equal(on.watchdogMs, 200, 'pings at half the watchdog interval');
  await on.ready('model 3 loaded');
  t.same(calls[0], [`--pid=${process.pid}`, '--ready', '--status=model 3 loaded']);
  const pings = () => calls.filter((c) => c.includes('WATCHDOG=1')).length;
  clock.advance(199);
  t.equal(pings(), 0, 'no ping before half the interval');
  clock.advance(1);
  t.equal(pings(), 1, 'the first at 200 ms');
  clock.advance(400);
  t.equal(pings(), 3, 'then one every 200 ms');
  await on.stopping();
  t.same(calls.at(-1), ['STOPPING=1']);
  clock.advance(1_000);
  t.equal(pings(), 3, 'none after stopping');
  t.equal(clock.timers, 0);
  const other = new SystemdNotify({
    env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' },
    log: createMemoryLogger(),
    run,
  });
  t.equal(other.watchdogMs, undefined, 'a watchdog meant for another process is not ours');

  const log = createMemoryLogger();
  const failing = new SystemdNotify({
    env: { NOTIFY_SOCKET: '/x' },
    log,
    run: async () => Promise.reject(new Error('no socket')),
  });
  await failing.status('x');
  t.match(log.lines[0], { msg: 'systemd-notify failed' }, 'a failed notify is logged, not thrown');
});

t.test('the agent version comes from package.json', async (t) => {
  t.match(agentVersion(), /^\d+\.\d+\.\d+$/);
  t.not(agentVersion(), '0.0.0');
});
