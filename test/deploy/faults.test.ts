import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { readChannelState } from '../../deploy/channelState.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { makePackage, waitFor } from '../agent/helpers.js';
import { deployOn, deviceOn } from '../helpers/deployHarness.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { bytes, packageDir, testKey } from '../helpers/release.js';
import { scaled } from '../helpers/time.js';

const signer = testKey();
// Model packages are written with tfjs (the fixtures' student).
t.before(() => useBackend('wasm'));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

async function megabytePackage(tt: Parameters<typeof packageDir>[0], seed: number) {
  return packageDir(tt, [
    { name: 'model.json', data: Buffer.from(`{"seed":${seed}}`) },
    { name: 'weights.bin', data: bytes(1024 * 1024, seed) },
  ]);
}

const request = async (dir: string, version = 0) => ({
  channel: 'stable',
  model: 'student',
  version,
  minAgentVersion: '0.1.0',
  metrics: {},
  percent: 100,
  files: await readPackage(dir, 16 * 1024, DEFAULT_LIMITS),
});

t.test('broker restarted in the middle of a transfer: the transfer completes after reconnect', async (t) => {
  const broker = await mosquitto(t);
  const { ctx } = await deployOn(t, broker.url);
  const dir = await megabytePackage(t, 1);
  await publishRelease(ctx, await request(dir), signer.key);
  let restart: Promise<void> | undefined;
  let receivedAtRestart = 0;
  // A window of 2 chunks: the broker holds back the rest, so the restart lands mid-transfer for sure.
  const device = await deviceOn(t, broker.url, signer.keys, {
    windowChunks: 2,
    chunkTimeoutMs: 500,
    onEvent: (e) => {
      if (e.type === 'progress' && e.receivedChunks === 6 && !restart) {
        receivedAtRestart = e.receivedChunks;
        restart = broker.restart();
      }
    },
  });
  let reconnects = 0;
  device.client.on('reconnect', () => reconnects++);
  const outcome = await device.outcome(20_000);
  await restart;
  t.match(outcome, { type: 'complete', version: 1 });
  t.ok(receivedAtRestart > 0 && receivedAtRestart < 66, `restarted after ${receivedAtRestart} of 66 chunks`);
  t.ok(reconnects >= 1, 'the device reconnected');
  t.ok(device.installed[0].files[1].data.equals(bytes(1024 * 1024, 1)), 'weights intact');
  t.equal(device.events.filter((e) => e.type === 'failed').length, 0, 'no failure on the way');
});

t.test('publisher killed midway: devices keep their model, then take the republished release', async (t) => {
  const broker = await mosquitto(t);
  const { ctx } = await deployOn(t, broker.url);
  await publishRelease(ctx, await request(await megabytePackage(t, 1)), signer.key);
  const device = await deviceOn(t, broker.url, signer.keys);
  await device.next((e) => e.type === 'complete' && e.version === 1);

  const keyFile = join(await packageDir(t, []), '..', 'deploy-key.pem');
  await writeFile(keyFile, signer.key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  // `bookrec publish` takes model packages only (it checks them first): one of some 10 chunks.
  const dir = (await makePackage(join(t.testdir(), 'v2'), { n: 1500, seed: 2, modelId: 'student' })).dir;
  // The CLI in a child process, paced so that it is surely still publishing when it is killed.
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv.filter((a) => a.includes('@tapjs/typescript')),
      join(REPO, 'cli/bookrec.ts'),
      'publish',
      dir,
      '--channel',
      'stable',
      '--broker',
      broker.url,
      '--username',
      'deploy',
      '--key-file',
      keyFile,
      '--chunk-size',
      '16384',
      '--max-chunks-per-second',
      '20',
    ],
    {
      env: { ...process.env, BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy, TS_NODE_TRANSPILE_ONLY: '1' },
      stdio: 'pipe',
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<string | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const closedConnections = () =>
    (broker.log().match(/Client \S+ (closed its connection|disconnected)/g) ?? []).length;
  let closedBefore = Number.POSITIVE_INFINITY;
  const watcher = await connectAs(t, broker.url, 'deploy');
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no chunks from the child: ${stderr}`)), scaled(90_000));
    watcher.on('message', () => {
      if (++seen === 5) {
        clearTimeout(timer);
        closedBefore = closedConnections();
        child.kill('SIGKILL');
        resolve();
      }
    });
    watcher.subscribeAsync('bookrec/releases/stable/2/+/+', { qos: 1 }).catch(reject);
  });
  t.equal(await exited, 'SIGKILL', 'the publisher died mid-release');
  // The broker has read all the dead publisher sent once it logs the closed connection (the test's own
  // clients stay connected): only then is "version 2 never arrived" an outcome, not an early look.
  await waitFor('the broker to see the publisher gone', () => closedConnections() > closedBefore);
  const state = await readChannelState(ctx, 'stable');
  t.equal(state.current?.version, 1, 'the channel manifest still names version 1');
  t.ok(state.records.has(2), 'the interrupted release left its record (for cleanup)');
  t.notOk(
    device.events.some((e) => e.type !== 'progress' && 'version' in e && e.version === 2),
    'the device never heard of version 2',
  );
  t.equal(device.state.installedVersion, 1, 'the device keeps version 1');

  // Republished (same version): the device resumes and completes with the new content.
  await publishRelease(ctx, await request(dir, 2), signer.key);
  await device.next((e) => e.type === 'complete' && e.version === 2, 10_000);
  const expected = await readPackage(dir, 16 * 1024, DEFAULT_LIMITS);
  t.ok(
    device.installed[1].files.every((f, i) => f.data.equals(expected[i].data)),
    'the device has the republished package, file for file',
  );
});

t.test('a publish the broker refuses for size fails with a timeout instead of hanging', async (t) => {
  const broker = await mosquitto(t);
  const { link } = await deployOn(t, broker.url, { version: '5', timeoutSeconds: 1 });
  const started = Date.now();
  await t.rejects(link.publish('bookrec/releases/stable/1/0/0', Buffer.alloc(400 * 1024), { retain: true }), {
    code: 'TIMEOUT',
  });
  t.ok(Date.now() - started < 3000, 'bounded by the publish timeout');
});
