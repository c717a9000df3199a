import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { type ActiveModel, ModelStore } from '../../agent/modelStore.js';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { tfjsEngineLoader } from '../../common/model/tfjsEngine.js';
import { testKey } from '../helpers/release.js';
import { makePackage, releaseOf } from './helpers.js';

const key = testKey();
t.before(() => useBackend('wasm'));

async function packages(dir: string) {
  const a = await makePackage(join(dir, 'pkg-a'), { n: 40, seed: 1 });
  const b = await makePackage(join(dir, 'pkg-b'), { n: 50, seed: 2 });
  return { a: a.dir, b: b.dir };
}

const store = (stateDir: string, extra: Partial<ConstructorParameters<typeof ModelStore>[0]> = {}) =>
  new ModelStore({
    stateDir,
    log: createMemoryLogger(),
    loadOther: tfjsEngineLoader({ backend: 'wasm' }),
    ...extra,
  });

t.test('no model: starts empty, installs, switches, keeps one previous, loads from disk', async (t) => {
  const dir = t.testdir();
  const stateDir = join(dir, 'state');
  const pkgs = await packages(dir);
  const s = store(stateDir);
  t.equal(await s.start(), undefined, 'an empty state dir starts without a model');
  t.same(s.state(), { installedVersion: null, lastSerial: null });

  const v1 = await s.install(await releaseOf(key, pkgs.a, 1));
  t.equal(v1.catalogue.length, 40);
  t.equal(await readlink(join(stateDir, 'current')), join('models', '1'));
  t.same(s.state(), { installedVersion: 1, lastSerial: 1 });

  const tensorsBefore = tf.memory().numTensors;
  await s.install(await releaseOf(key, pkgs.b, 2));
  t.equal(await readlink(join(stateDir, 'current')), join('models', '2'));
  t.equal(
    await readlink(join(stateDir, 'previous')),
    join('models', '1'),
    'the old model is kept for rollback',
  );
  t.ok(tf.memory().numTensors <= tensorsBefore + 20, 'the old model was disposed (no tensor pile-up)');

  await s.install(await releaseOf(key, pkgs.a, 3));
  t.same((await readdir(join(stateDir, 'models'))).sort(), ['2', '3'], 'only current and previous stay');
  await s.stop();

  // A restart loads from disk alone (no broker anywhere in this test).
  const again = store(stateDir);
  const loaded = (await again.start()) as ActiveModel;
  t.equal(loaded.release.version, 3);
  t.equal(loaded.catalogue.length, 40);
  await again.stop();
});

t.test('a package that fails its checks leaves the model in use alone', async (t) => {
  const dir = t.testdir();
  const stateDir = join(dir, 'state');
  const pkgs = await packages(dir);
  const s = store(stateDir);
  await s.start();
  await s.install(await releaseOf(key, pkgs.a, 1));
  const bad = await releaseOf(key, pkgs.b, 2);
  const weights = bad.files.find((f) => f.name === 'weights.bin')!;
  weights.data = Buffer.from(weights.data);
  weights.data[10] ^= 0xff;
  await t.rejects(s.install(bad), { code: 'PACKAGE_CHECKSUM' });
  const noCatalogue = await releaseOf(key, pkgs.b, 2);
  noCatalogue.files = noCatalogue.files.filter((f) => f.name !== 'catalogue.json');
  await t.rejects(s.install(noCatalogue), { code: 'PACKAGE_MISSING_FILE' });
  t.equal(s.current?.release.version, 1, 'still version 1 in memory');
  t.equal(await readlink(join(stateDir, 'current')), join('models', '1'), 'and on disk');
  t.same(await readdir(join(stateDir, 'models')), ['1'], 'no staging folder left behind');
  await s.stop();
});

t.test('killed between staging and the switch: the restart finds the old model working', async (t) => {
  const dir = t.testdir();
  const stateDir = join(dir, 'state');
  const pkgs = await packages(dir);
  const s = store(stateDir);
  await s.start();
  await s.install(await releaseOf(key, pkgs.a, 1));
  await s.stop();

  const child = fileURLToPath(new URL('./children/installAndDie.ts', import.meta.url));
  const proc = spawn(process.execPath, [...process.execArgv, child, stateDir, pkgs.b, '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const signal = await new Promise((resolve) => proc.on('exit', (_code, sig) => resolve(sig)));
  t.equal(signal, 'SIGKILL', `the child died by SIGKILL mid-install (${output.slice(0, 300)})`);
  t.ok((await readdir(join(stateDir, 'models'))).includes('2'), 'the new version was staged on disk');
  t.equal(
    await readlink(join(stateDir, 'current')),
    join('models', '1'),
    'current still names the old model',
  );

  // A crash inside staging leaves a .staging folder; the restart removes it too.
  await mkdir(join(stateDir, 'models', '.staging-9-dead'), { recursive: true });
  await writeFile(join(stateDir, 'models', '.staging-9-dead', 'model.json'), '{"half":');
  const after = store(stateDir);
  const loaded = await after.start();
  t.equal(loaded?.release.version, 1, 'the restart loads a working model');
  t.same(await readdir(join(stateDir, 'models')), ['1'], 'the unswitched and half-staged folders are pruned');
  // The device can then install the release again.
  await after.install(await releaseOf(key, pkgs.b, 2));
  t.equal(after.current?.release.version, 2);
  await after.stop();
});

t.test('a current model that no longer loads falls back to the previous one', async (t) => {
  const dir = t.testdir();
  const stateDir = join(dir, 'state');
  const pkgs = await packages(dir);
  const s = store(stateDir);
  await s.start();
  await s.install(await releaseOf(key, pkgs.a, 1));
  await s.install(await releaseOf(key, pkgs.b, 2));
  await s.stop();
  // Disk corruption in the current model's weights.
  const weights = join(stateDir, 'models', '2', 'weights.bin');
  const bytes = await readFile(weights);
  bytes[0] ^= 0xff;
  await writeFile(weights, bytes);
  const log = createMemoryLogger();
  const again = new ModelStore({ stateDir, log });
  t.equal((await again.start())?.release.version, 1);
  t.equal(
    await readlink(join(stateDir, 'current')),
    join('models', '1'),
    'current now names the working model',
  );
  t.ok(
    log.lines.some((l) => l.msg === 'installed model does not load'),
    'the failure is logged',
  );
  await again.stop();
});
