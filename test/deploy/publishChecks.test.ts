import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { readChannelState } from '../../deploy/channelState.js';
import { readRetained } from '../../deploy/retained.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';
import { deployOn } from '../helpers/deployHarness.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { packageDir } from '../helpers/release.js';

/**
 * `bookrec publish` checks a package on the devices' own code before it signs anything, and `bookrec
 * rollback` refuses to return to a release devices failed to install unless given --force. Before, a
 * folder holding only readme.txt was signed and published at 100% (exit 0), every device failed to
 * install it, and rollback later went back to exactly that release without a word.
 */
t.before(() => useBackend('wasm'));

async function bookrec(args: string[]) {
  const { ctx, out, err } = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('publish refuses what devices could not install; nothing reaches the broker', async (t) => {
  const broker = await mosquitto(t);
  const dir = t.testdir();
  const key = join(dir, 'deploy.pem');
  t.equal((await bookrec(['keys', '--key-file', key])).code, 0);
  const common = ['--broker', broker.url, '--username', 'deploy', '--key-file', key, '--quiet-ms', '100'];

  const readme = await packageDir(t, [{ name: 'readme.txt', data: Buffer.from('just a note') }]);
  const r = await bookrec(['publish', readme, ...common]);
  t.equal(r.code, 1, 'a folder that is not a package: refused');
  t.match(r.err, /is not a model package: it has no bookrec-package\.json.*\[PACKAGE_INVALID\]/);

  // A real package whose model no longer fits its catalogue: its own manifest agrees with every file
  // (so the file check passes), but the model cannot load for the books listed.
  const broken = (await makePackage(join(dir, 'broken'), { n: 40, modelId: 'student' })).dir;
  const manifestFile = join(broken, 'bookrec-package.json');
  const catalogueFile = join(broken, 'catalogue.json');
  const catalogue = JSON.parse(await readFile(catalogueFile, 'utf8')) as unknown[];
  await writeFile(catalogueFile, JSON.stringify(catalogue.slice(0, 30)));
  const m = JSON.parse(await readFile(manifestFile, 'utf8')) as {
    files: { name: string; size: number; sha256: string }[];
  };
  const data = await readFile(catalogueFile);
  Object.assign(m.files.find((f) => f.name === 'catalogue.json')!, {
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  });
  await writeFile(manifestFile, JSON.stringify(m));
  const b = await bookrec(['publish', broken, ...common]);
  t.equal(b.code, 1, 'a package devices would fail to load: refused');
  t.match(b.err, /is not a package devices can install: .*\[PACKAGE_INVALID\]/);

  const { ctx } = await deployOn(t, broker.url);
  const retained = await readRetained(ctx.transport, 'bookrec/#', ctx.retained);
  t.equal(retained.size, 0, 'nothing was signed or published');

  const good = (await makePackage(join(dir, 'good'), { n: 40, modelId: 'student' })).dir;
  const g = await bookrec(['publish', good, ...common]);
  t.equal(g.code, 0, g.err);
  t.match(g.out, /published stable\/student version 1/);
});

t.test('rollback to a release devices failed to install: refused without --force', async (t) => {
  const broker = await mosquitto(t);
  const dir = t.testdir();
  const key = join(dir, 'deploy.pem');
  t.equal((await bookrec(['keys', '--key-file', key])).code, 0);
  const common = ['--broker', broker.url, '--username', 'deploy', '--key-file', key, '--quiet-ms', '100'];
  for (const seed of [1, 2, 3]) {
    const pkg = (await makePackage(join(dir, `v${seed}`), { n: 40, seed, modelId: 'student' })).dir;
    t.equal((await bookrec(['publish', pkg, ...common])).code, 0, `v${seed} published`);
  }
  // The fleet's word on version 2 (as agents publish it): dev-a failed it, then installed version 3.
  const dev = await connectAs(t, broker.url, 'dev-a');
  const at = '2026-01-01T00:00:00.000Z';
  const report = {
    schema: 1,
    deviceId: 'dev-a',
    state: 'online',
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'student', version: 3 },
    lastUpdate: { channel: 'stable', version: 3, result: 'installed', at },
    updates: [
      { channel: 'stable', version: 2, result: 'failed', code: 'INSTALL_FAILED', reason: 'self-test', at },
      { channel: 'stable', version: 3, result: 'installed', at },
    ],
    uptimeSeconds: 1,
    at,
  };
  for (const kind of ['status', 'report'])
    await dev.publishAsync(`bookrec/devices/dev-a/${kind}`, JSON.stringify(report), { qos: 1, retain: true });

  const refused = await bookrec(['rollback', ...common]);
  t.equal(refused.code, 1);
  t.match(
    refused.err,
    /version 2 was refused or failed on 1 device\(s\) and installed on 0 \(dev-a: failed INSTALL_FAILED self-test\); roll back anyway with --force.*\[ROLLBACK_UNSAFE\]/,
  );
  const { ctx } = await deployOn(t, broker.url);
  t.equal((await readChannelState(ctx, 'stable')).current?.version, 3, 'the channel still names version 3');

  const forced = await bookrec(['rollback', ...common, '--force']);
  t.equal(forced.code, 0, forced.err);
  t.match(forced.out, /stable rolled back to version 2/);
});
