import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { readChannelState } from '../../deploy/channelState.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';
import { deployOn, deviceOn } from '../helpers/deployHarness.js';
import { mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { bytes, packageDir, testKey } from '../helpers/release.js';

/**
 * A broker that crashes keeps what deploy published (the production config saves after 100 changes,
 * and deploy makes 100 after a manifest), and a broker that lost its store anyway does not make deploy
 * reuse a version number (the ledger beside the signing key). Before: mosquitto saved every 60 s, so a
 * kill -9 lost the newest releases and the next publish numbered from what was left.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test('kill -9 right after a publish: the release is still there, and a device installs it', async (t) => {
  const broker = await mosquitto(t);
  const { ctx } = await deployOn(t, broker.url);
  const dir = await packageDir(t, [{ name: 'w.bin', data: bytes(100_000, 4) }]);
  const files = await readPackage(dir, 16 * 1024, DEFAULT_LIMITS);
  const manifest = await publishRelease(
    ctx,
    { channel: 'stable', model: 'm', version: 0, minAgentVersion: '0.1.0', metrics: {}, percent: 100, files },
    signer.key,
  );
  const before = broker.pid();
  const down = await broker.crashAndRestart();
  // The kill is real: the old process is gone (signal 0 finds no such process) and another one serves.
  t.throws(
    () => process.kill(before ?? -1, 0),
    { code: 'ESRCH' },
    `mosquitto ${before} SIGKILLed (${down} ms down)`,
  );
  t.not(broker.pid(), undefined, 'a new mosquitto started');
  t.not(broker.pid(), before, 'with another pid');
  const { ctx: after } = await deployOn(t, broker.url);
  const state = await readChannelState(after, 'stable');
  t.equal(state.current?.version, manifest.version, 'the channel manifest survived');
  const device = await deviceOn(t, broker.url, signer.keys, { user: 'dev-b' });
  t.match(await device.outcome(), { type: 'complete', version: manifest.version }, 'every chunk survived');
  t.ok(device.installed[0].files[0].data.equals(bytes(100_000, 4)));
});

t.test(
  'a broker that lost its store: publish numbers on from the ledger, and refuses a used number',
  async (t) => {
    // No persistence at all: a restart forgets everything, as a crash before any save would.
    const broker = await mosquitto(t, { persistence: false });
    const dir = t.testdir();
    const key = join(dir, 'deploy.pem');
    const run = async (args: string[]) => {
      const c = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
      const code = await main(args, c.ctx);
      return { code, out: c.out.join('\n'), err: c.err.join('\n') };
    };
    t.equal((await run(['keys', '--key-file', key])).code, 0);
    const common = ['--broker', broker.url, '--username', 'deploy', '--key-file', key, '--quiet-ms', '100'];
    const pkg = (seed: number) => makePackage(join(dir, `p${seed}`), { n: 30, seed, modelId: 'student' });
    for (const seed of [1, 2])
      t.match((await run(['publish', (await pkg(seed)).dir, ...common])).out, `version ${seed} `);
    await broker.restart();
    const third = await run(['publish', (await pkg(3)).dir, ...common]);
    t.equal(third.code, 0, third.err);
    t.match(third.out, /version 3 /, 'not version 1 again: the ledger remembers 2');
    const reused = await run(['publish', (await pkg(4)).dir, ...common, '--model-version', '2']);
    t.equal(reused.code, 1);
    t.match(
      reused.err,
      /version 2 of channel stable was published from here before .*give 4 or more.*\[VERSION_REUSED\]/,
    );
    t.match(await readFile(join(dir, 'deploy.versions.json'), 'utf8'), /"highest": 3/);
  },
);
