import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ModelStore } from '../../agent/modelStore.js';
import type { GpioLines } from '../../agent/signals/gpio/gpio.js';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { startEmbeddedBroker } from '../../deploy/broker.js';
import { freePort } from '../../deploy/mosquittoProcess.js';
import { bytes, packageDir, testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, releaseOf, waitFor } from './helpers.js';

const signer = testKey();
t.before(() => useBackend('wasm'));

const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;

t.test('an unsigned release and a broken package are refused; the old model keeps working', async (t) => {
  const dir = await serviceDir(t);
  const broker = await agentBroker(t);
  const ops = await listener(t, broker.url, 'deploy', [topic('status'), topic('events')]);
  const agent = await startAgent(t, join(dir, 'state'), broker.url, signer, ['--output', 'publish']);
  const good = await makePackage(join(dir, 'v1'), { n: 40, seed: 1 });
  await publishPackage(t, broker.url, signer, good.dir, 1);
  await waitFor('v1 installed', () => agent.service.store.current?.release.version === 1, 20_000);

  // Signed by a key the device does not trust.
  const stranger = testKey();
  const other = await makePackage(join(dir, 'v2'), { n: 40, seed: 2 });
  await publishPackage(t, broker.url, stranger, other.dir, 2);
  const rejected = await waitFor('a rejection', () =>
    ops.json(topic('events')).find((e) => e.phase === 'rejected'),
  );
  t.match(rejected, { code: 'MANIFEST_UNKNOWN_KEY' });

  // Correctly signed, but not a model package: the download verifies, the install fails.
  const junk = await packageDir(t, [
    { name: 'model.json', data: Buffer.from('{"not": "a model"}') },
    { name: 'weights.bin', data: bytes(5000, 3) },
  ]);
  await publishPackage(t, broker.url, signer, junk, 3);
  const failed = await waitFor('an install failure', () =>
    ops.json(topic('events')).find((e) => e.phase === 'failed'),
  );
  t.match(failed, { version: 3, code: 'INSTALL_FAILED', reason: /bookrec-package\.json is missing/ });
  const status = await waitFor('status: failed', () =>
    ops.json(topic('status')).find((s) => (s.lastUpdate as { result?: string } | null)?.result === 'failed'),
  );
  t.match(
    status,
    { model: { version: 1 }, lastUpdate: { version: 3, code: 'INSTALL_FAILED' } },
    'the fleet sees the failure',
  );
  t.equal(agent.service.store.current?.release.version, 1, 'still version 1');
  t.ok(await agent.service.responder.trigger('command'), 'and it still recommends');

  // The broker restarts: the agent reconnects, resubscribes, and the next release installs.
  await broker.restart();
  const fixed = await makePackage(join(dir, 'v4'), { n: 50, seed: 4 });
  await publishPackage(t, broker.url, signer, fixed.dir, 4);
  await waitFor(
    'v4 installed after the broker restart',
    () => agent.service.store.current?.release.version === 4,
    20_000,
  );
  t.equal(agent.service.store.current?.catalogue.length, 50);
  t.equal(agent.service.store.current?.engine.kind, 'sparse-js', 'the sparse student runs without tfjs');

  // A model only tfjs runs (a student with a dense path): tfjs is loaded for it, and it answers.
  const deep = await makePackage(join(dir, 'v5'), { n: 50, seed: 5, hidden: 16 });
  await publishPackage(t, broker.url, signer, deep.dir, 5);
  await waitFor('v5 installed', () => agent.service.store.current?.release.version === 5, 20_000);
  t.equal(agent.service.store.current?.engine.kind, 'tfjs-wasm');
  const answer = await agent.service.responder.trigger('command');
  t.equal(answer?.message.modelVersion, 5);
});

t.test(
  'stop() during an install finishes it first: nothing writes to the state dir after stop',
  async (t) => {
    const dir = await serviceDir(t);
    const stateDir = join(dir, 'state');
    const broker = await agentBroker(t);
    // The install is held between staging and the switch until the test lets it go.
    let reached = () => {};
    const atSwitch = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let letGo = () => {};
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const agent = await startAgent(t, stateDir, broker.url, signer, ['--output', 'publish'], {
      beforeSwitch: async () => {
        reached();
        await gate;
      },
    });
    const pkg = await makePackage(join(dir, 'v1'), { n: 40, seed: 1 });
    await publishPackage(t, broker.url, signer, pkg.dir, 1);
    await atSwitch;

    let stopped = false;
    const stopping = agent.service.stop().then(() => {
      stopped = true;
    });
    await waitFor(
      'stop() to wait for the install (or to return)',
      () => stopped || agent.log.lines.some((l) => l.msg === 'stopping: finishing the install in progress'),
    );
    t.notOk(stopped, 'stop() has not resolved while the install is under way');
    letGo();
    await stopping;

    t.equal(await readlink(join(stateDir, 'current')), join('models', '1'), 'the install was finished');
    const updates = JSON.parse(await readFile(join(stateDir, 'updates.json'), 'utf8')) as unknown[];
    t.match(updates.at(-1), { version: 1, result: 'installed' }, 'and its report saved before stop resolved');
    t.same(
      (await readdir(stateDir)).filter((name) => name.includes('.tmp')),
      [],
      'no half-written file left',
    );
    t.equal(agent.service.store.current, undefined, 'the new model was let go by stop(), not after it');
  },
);

t.test('a signal source that cannot start is left out; the speaker still answers', async (t) => {
  const dir = await serviceDir(t);
  const broker = await agentBroker(t);
  const noChip: GpioLines = {
    name: 'broken',
    start: async () => {
      throw new Error('/dev/gpiochip0: no such device');
    },
    stop: async () => undefined,
  };
  const agent = await startAgent(t, join(dir, 'state'), broker.url, signer, ['--output', 'publish'], {
    gpio: noChip,
  });
  t.match(
    agent.log.lines.find((l) => l.msg === 'signal source unavailable'),
    { source: 'gpio', error: /no such device/ },
  );
  t.match(agent.notified[0], ['--pid=' + process.pid, '--ready'], 'READY all the same');
  const pkg = await makePackage(join(dir, 'v1'), { n: 40, seed: 1 });
  await publishPackage(t, broker.url, signer, pkg.dir, 1);
  await waitFor('v1 installed', () => agent.service.store.current?.release.version === 1, 20_000);
  t.ok(await agent.service.responder.trigger('command'), 'and it recommends');
});

t.test(
  'broker down at start: READY from disk, recommendations queue, and go out when it comes up',
  async (t) => {
    const dir = await serviceDir(t);
    const stateDir = join(dir, 'state');
    // A model installed earlier (as a previous run would have left it).
    const pkg = await makePackage(join(dir, 'pkg'), { n: 40, seed: 5 });
    const store = new ModelStore({ stateDir, log: createMemoryLogger() });
    await store.start();
    await store.install(await releaseOf(signer, pkg.dir, 7));
    await store.stop();

    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const started = Date.now();
    const agent = await startAgent(t, stateDir, url, signer, ['--output', 'publish', '--outbox-max', '2']);
    t.ok(Date.now() - started < 5000, 'start does not wait for the broker');
    t.match(
      agent.notified[0],
      [`--pid=${process.pid}`, '--ready', '--status=model 7 loaded'],
      'READY once the model is loaded',
    );
    t.equal(agent.service.link.online, false);
    for (let i = 0; i < 3; i++) {
      const r = await agent.service.responder.trigger('button');
      t.equal(r?.message.modelVersion, 7, 'recommends from disk while offline');
    }
    t.equal(agent.service.outbox.size, 2, 'the outbox keeps its bound (2 here)');
    t.equal(agent.service.outbox.dropped, 1, 'the oldest was dropped, and counted');
    t.ok(agent.log.lines.some((l) => l.msg === 'outbox full: oldest message dropped'));

    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port, log: createMemoryLogger() });
    t.teardown(() => broker.stop());
    const app = await listener(t, url, 'app', [topic('recommendations'), topic('status')]);
    await waitFor('online', () => agent.service.link.online, 10_000);
    await waitFor('the queue flushed', () => agent.service.outbox.size === 0, 10_000);
    await waitFor('the retained status', () => app.json(topic('status')).find((s) => s.state === 'online'));
    await agent.service.responder.trigger('command');
    await waitFor('a live recommendation', () =>
      app.json(topic('recommendations')).find((r) => r.trigger === 'command'),
    );
  },
);
