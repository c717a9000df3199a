import { join } from 'node:path';
import t from 'tap';
import { HistoryStore } from '../../agent/history.js';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import type { Reply } from '../../common/protocol/commands.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentProcess } from './agentProcess.js';
import { APP_USER, agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * Signals and commands sent while a speaker is away reach it when it returns: the agent keeps a
 * persistent session (one client id per device, no clean start), the broker queues what is published at
 * QoS 1 to its signals and commands topics, and the agent listens before it connects, so nothing queued
 * arrives unheard. Each signal is stored exactly once; each command gets its reply; a recommendation
 * asked for long ago is answered but not said aloud. Before, every start was a clean session under a
 * new client id: whatever was sent while the agent was away was lost.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
const HOUR = 3_600_000;

/** Signals with their own time, as a player app that queues for an offline speaker sends them. */
function signalsFor(bookIds: number[]): string[] {
  const base = Date.now() - HOUR;
  return bookIds.map((bookId, i) =>
    JSON.stringify({ bookId, kind: 'finished', at: new Date(base + i * 60_000).toISOString() }),
  );
}

function replies(ops: { json(topic: string): Record<string, unknown>[] }, id: string): Reply[] {
  return ops.json(topic('replies')).filter((r) => r.id === id) as unknown as Reply[];
}

// MQTT 5 sessions end with the connection unless the client asks for an expiry (broker.sessionExpirySeconds).
for (const version of ['3.1.1', '5']) {
  t.test(
    `MQTT ${version}, stopped: queued signals stored once, queued commands answered on return`,
    async (t) => {
      const dir = await serviceDir(t);
      const stateDir = join(dir, 'state');
      const broker = await agentBroker(t);
      const ops = await listener(t, broker.url, 'deploy', [topic('replies')]);
      const app = await listener(t, broker.url, APP_USER, []);
      const pkg = await makePackage(join(dir, 'student'), { n: 40, seed: 1 });
      const args = ['--tts', 'espeak-ng', '--output', 'both', '--mqtt-version', version];

      const first = await startAgent(t, stateDir, broker.url, signer, args);
      const manifest = await publishPackage(t, broker.url, signer, pkg.dir, 1);
      await waitFor(
        'the model installed',
        () => first.service.store.current?.release.version === manifest.version,
      );
      await first.service.stop();

      const books = pkg.catalogue.slice(0, 3).map((b) => b.id);
      for (const s of signalsFor(books)) await app.client.publishAsync(topic('signals'), s, { qos: 1 });
      const now = JSON.stringify({ id: 'now-1', command: 'recommend', at: new Date().toISOString() });
      const stale = JSON.stringify({
        id: 'stale-1',
        command: 'recommend',
        at: new Date(Date.now() - 2 * HOUR).toISOString(),
      });
      await app.client.publishAsync(topic('commands'), stale, { qos: 1 });
      await app.client.publishAsync(topic('commands'), now, { qos: 1 });

      const again = await startAgent(t, stateDir, broker.url, signer, args);
      await waitFor(
        'both replies',
        () => replies(ops, 'now-1').length + replies(ops, 'stale-1').length === 2,
      );
      t.match(replies(ops, 'now-1'), [{ ok: true, command: 'recommend' }], 'the fresh command answered');
      t.match(replies(ops, 'stale-1'), [{ ok: true, command: 'recommend' }], 'the stale one answered too');
      await again.service.responder.idle();
      t.equal(again.played.length, 1, 'only the fresh recommendation is said aloud');

      const history = again.service.history.entries().map((e) => e.bookId);
      t.same(history, books, 'every queued signal stored once');
      t.match(again.service.intake.counters, { accepted: 3, duplicate: 0 });
    },
  );
}

t.test('killed with SIGKILL: queued signals and a command reach the restarted process', async (t) => {
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  const broker = await agentBroker(t);
  const ops = await listener(t, broker.url, 'deploy', [topic('status'), topic('replies'), topic('report')]);
  const app = await listener(t, broker.url, APP_USER, []);
  const pkg = await makePackage(join(dir, 'v1'), { n: 40, seed: 2 });
  const args = ['--broker', broker.url, '--state-dir', stateDir];
  const env = { BOOKREC_TRUSTED_KEYS: signer.publicKey };

  const agent = agentProcess(t, args, env);
  if (!agent) return;
  await waitFor('online', () => ops.json(topic('status')).some((s) => s.state === 'online'));
  await publishPackage(t, broker.url, signer, pkg.dir, 1);
  const installed = (s: Record<string, unknown>) =>
    (s.lastUpdate as { version?: number; result?: string } | null)?.version === 1;
  await waitFor('v1 installed', () => ops.json(topic('report')).some(installed), 60_000);
  await agent.kill();
  await waitFor('the last will', () => ops.json(topic('status')).at(-1)?.state === 'offline');

  const books = pkg.catalogue.slice(5, 9).map((b) => b.id);
  for (const s of signalsFor(books)) await app.client.publishAsync(topic('signals'), s, { qos: 1 });
  const ask = JSON.stringify({ id: 'after-kill', command: 'status', at: new Date().toISOString() });
  await app.client.publishAsync(topic('commands'), ask, { qos: 1 });

  const again = agentProcess(t, args, env);
  if (!again) return;
  // The command came after the signals, and each signal is acknowledged once stored: by its reply,
  // they are on disk.
  await waitFor('the reply', () => replies(ops, 'after-kill').length > 0, 60_000);
  t.match(replies(ops, 'after-kill'), [{ ok: true, command: 'status' }]);
  await again.kill();

  const history = new HistoryStore({
    stateDir,
    log: createMemoryLogger('error'),
    maxEvents: 1000,
    compactEvery: 1000,
  });
  await history.start();
  t.teardown(() => history.stop());
  t.same(
    history.entries().map((e) => e.bookId),
    books,
    'every signal sent while it was down is in its history, once',
  );
});
