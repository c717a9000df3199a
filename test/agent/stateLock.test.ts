import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { AgentService } from '../../agent/service.js';
import { LOCK_FILE, lockHolder, lockStateDir, ownerOf } from '../../agent/stateLock.js';
import { createMemoryLogger } from '../../common/log.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentProcess } from './agentProcess.js';
import { testConfig, waitFor } from './helpers.js';

/**
 * Issue 21 item 3, second half: one agent per state dir. A second agent on the same folder shared the
 * device's MQTT session and history with the running one; now it refuses to start, naming the pid that
 * holds the folder, and a lock left by a SIGKILLed agent does not lock its successor out.
 */

const NO_BROKER = ['--broker', 'mqtt://127.0.0.1:1'];

/** An in-process service on `stateDir` (no broker), stopped when the test ends. */
function service(tt: { teardown(fn: () => unknown): void }, stateDir: string) {
  const log = createMemoryLogger('debug');
  const s = new AgentService({
    config: testConfig(stateDir, NO_BROKER),
    env: {},
    log,
    notify: async () => {},
  });
  tt.teardown(() => s.stop());
  return { service: s, log };
}

t.test('a second start on a state dir a running agent holds fails, naming its pid', async (t) => {
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  const first = agentProcess(t, ['--state-dir', stateDir, ...NO_BROKER]);
  if (!first) return;
  const pid = first.child.pid as number;
  // "starting" is logged once the state dir is prepared (and, now, locked).
  await waitFor('the first agent started', () => /"msg":"starting"/.test(first.log()));

  const second = service(t, stateDir);
  await t.rejects(second.service.start(), {
    code: 'STATE_DIR_LOCKED',
    message: new RegExp(`state dir .*state is in use by another agent \\(pid ${pid}\\): stop it first`),
  });
  await second.service.stop();
  t.equal(await lockHolder(stateDir), pid, 'the holder is the running agent');
  t.match(
    await readFile(join(stateDir, LOCK_FILE), 'utf8'),
    `"pid":${pid}`,
    'the lock is still the first one',
  );

  // kill -9 leaves the lock behind; the next start takes it over.
  await first.kill();
  t.ok(existsSync(join(stateDir, LOCK_FILE)), 'a SIGKILLed agent leaves its lock');
  t.equal(await lockHolder(stateDir), undefined, 'held by nobody alive');
  const third = service(t, stateDir);
  await third.service.start();
  t.equal(await lockHolder(stateDir), process.pid, 'the stale lock was taken over');
  await third.service.stop();
  t.notOk(existsSync(join(stateDir, LOCK_FILE)), 'a clean stop removes the lock');
});

t.test('stale locks: a dead pid, another boot, a reused pid, a torn file', async (t) => {
  const self = ownerOf(process.pid);
  const dead = { pid: 2 ** 22 + 12345, boot: self.boot, start: '1' };
  const cases: [string, string][] = [
    ['a dead pid', JSON.stringify(dead)],
    ['another boot', JSON.stringify({ ...self, boot: 'another-boot' })],
    ['this pid, started at another time', JSON.stringify({ ...self, start: '1' })],
    ['a torn file', '{"pid":'],
  ];
  for (const [name, text] of cases) {
    const dir = t.testdir();
    await writeFile(join(dir, LOCK_FILE), text);
    const lock = await lockStateDir(dir);
    t.same(JSON.parse(await readFile(lock.file, 'utf8')), self, `${name}: taken over`);
    await lock.release();
  }
  const dir = t.testdir();
  const held = await lockStateDir(dir);
  await t.rejects(lockStateDir(dir), { code: 'STATE_DIR_LOCKED', message: `(pid ${process.pid})` });
  await held.release();
  const again = await lockStateDir(dir);
  await again.release();
  t.notOk(existsSync(join(dir, LOCK_FILE)));
});

t.test('release leaves a lock that is no longer this one', async (t) => {
  const dir = t.testdir();
  const lock = await lockStateDir(dir);
  const other = JSON.stringify({ pid: 1, boot: '', start: '' });
  await writeFile(lock.file, other);
  await lock.release();
  t.equal(await readFile(lock.file, 'utf8'), other);
});
