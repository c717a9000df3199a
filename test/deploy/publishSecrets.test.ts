import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import type { SignedManifest } from '../../common/protocol/manifest.js';
import { secretReason } from '../../deploy/secretFiles.js';
import { buildStaticPhone } from '../../serve/webBuild.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { scaled } from '../helpers/time.js';
import { fixturePackage, signPackage, startServe, testRoot } from '../serve/harness.js';

/**
 * Issue 21, item 1: `bookrec publish` signed and shipped every file in the package folder, so a
 * deploy-key.pem and a secrets/credentials copied in went out retained to every device (a plain device
 * login printed `-----BEGIN PRIVATE KEY-----`), and `bookrec serve` then handed the key out at
 * /v1/package/files/deploy-key.pem. Publish now ships only what bookrec-package.json lists and refuses a
 * folder holding anything that looks like a key; serve hands out only the package's own files.
 */
t.before(() => useBackend('wasm'));

async function bookrec(args: string[]) {
  const { ctx, out, err } = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const MARKER = 'bookrec/releases/test-np/marker';

/**
 * Everything a device login receives on the channel's topics until the marker, which the deploy user
 * publishes after the command: what arrives before it is all the command sent.
 */
async function listen(t: { teardown(fn: () => unknown): void }, url: string) {
  const dev = await connectAs(t, url, 'dev-a');
  const got: { topic: string; payload: Buffer }[] = [];
  let markerSeen: () => void = () => undefined;
  const marked = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  dev.on('message', (topic, payload) => {
    if (topic === MARKER && payload.length > 0) markerSeen();
    else if (payload.length > 0) got.push({ topic, payload });
  });
  await dev.subscribeAsync(['bookrec/releases/test-np/#', 'bookrec/fleet/test-np/manifest'], { qos: 1 });
  return {
    got,
    async until(deploy: MqttClient) {
      await deploy.publishAsync(MARKER, `m${Date.now()}`, { qos: 1 });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        marked,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no marker')), scaled(10_000));
        }),
      ]).finally(() => clearTimeout(timer));
      return got;
    },
  };
}

const leaks = (msgs: { payload: Buffer }[]) =>
  msgs.filter((m) => /PRIVATE KEY|hunter2|operator notes/.test(m.payload.toString('latin1')));

t.test(
  'publish with a key and credentials in the package folder: refused, nothing reaches the broker',
  async (t) => {
    const broker = await mosquitto(t);
    const dir = t.testdir();
    const key = join(dir, 'deploy.pem');
    t.equal((await bookrec(['keys', '--key-file', key])).code, 0);
    const pkg = (await makePackage(join(dir, 'withkey'), { n: 40, modelId: 'student' })).dir;
    // The case: the signing key and a credentials file copied in beside the model.
    await copyFile(key, join(pkg, 'deploy-key.pem'));
    await mkdir(join(pkg, 'secrets'));
    await writeFile(join(pkg, 'secrets', 'credentials'), 'user=deploy\npassword=hunter2\n');
    const common = [
      '--broker',
      broker.url,
      '--username',
      'deploy',
      '--key-file',
      key,
      '--channel',
      'test-np',
      '--quiet-ms',
      '100',
    ];
    const deploy = await connectAs(t, broker.url, 'deploy');

    const first = await listen(t, broker.url);
    const r = await bookrec(['publish', pkg, ...common]);
    t.equal(r.code, 1, 'refused');
    t.match(r.err, /deploy-key\.pem \(its name is that of a key or credentials file\)/, 'names the key file');
    t.match(r.err, /secrets\/credentials \(it is under a secrets\/ folder\)/, 'names the credentials file');
    t.match(r.err, /move them out of the package folder.*\[PACKAGE_SECRET\]/);
    t.same(await first.until(deploy), [], 'nothing at all was published');

    // With the secrets gone, a stray non-secret file is left out with a word, and the rest goes out.
    await rm(join(pkg, 'deploy-key.pem'));
    await rm(join(pkg, 'secrets'), { recursive: true });
    await writeFile(join(pkg, 'notes.txt'), 'operator notes: not part of the model\n');
    const second = await listen(t, broker.url);
    const ok = await bookrec(['publish', pkg, ...common]);
    t.equal(ok.code, 0, ok.err);
    t.match(ok.out, /published test-np\/student version 1 \(serial \d+\): 4 files/);
    t.match(ok.out, /left out 1 file\(s\) bookrec-package\.json does not list: notes\.txt/);
    const msgs = await second.until(deploy);
    const manifest = msgs.find((m) => m.topic === 'bookrec/fleet/test-np/manifest');
    t.ok(manifest, 'the release went out');
    t.same(
      (JSON.parse(manifest?.payload.toString() ?? '{}') as SignedManifest).files.map((f) => f.name),
      ['bookrec-package.json', 'catalogue.json', 'model.json', 'weights.bin'],
      'only the files the package lists',
    );
    t.same(leaks(msgs), [], 'no key, credentials or stray file in any message');
  },
);

t.test('a listed file holding a private key, and the names that look secret', async (t) => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n-----END PRIVATE KEY-----\n';
  t.equal(
    secretReason('catalogue.json', Buffer.from(`[${JSON.stringify(pem)}]`)),
    'it holds a PEM private key',
  );
  t.equal(secretReason('catalogue.json', Buffer.from('[{"id":1,"title":"Keys"}]')), undefined);
  for (const name of [
    'deploy-key.pem',
    'tls.key',
    '.env',
    '.env.local',
    'id_ed25519',
    'aws-credentials',
    'db.password',
  ])
    t.ok(secretReason(name), name);
  for (const name of ['secrets/x.json', '.ssh/config', 'a/private/b'])
    t.match(secretReason(name), /under a/, name);
  for (const name of ['model.json', 'weights.bin', 'catalogue.json', 'bookrec-package.json', 'keys.md'])
    t.equal(secretReason(name), undefined, name);
});

t.test('serve hands out only the files the package lists, whatever the release signed', async (t) => {
  const signer = testKey();
  const dir = await fixturePackage(t);
  await writeFile(
    join(dir, 'deploy-key.pem'),
    '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n',
  );
  // A release signed over the whole folder, as publish did before the fix.
  const { file, manifest } = await signPackage(t, dir, signer.key);
  t.ok(
    manifest.files.some((f) => f.name === 'deploy-key.pem'),
    'the signed release lists the key',
  );
  const { url } = await startServe(t, [
    '--package',
    dir,
    '--manifest',
    file,
    '--trusted-keys',
    signer.publicKey,
  ]);
  const key = await fetch(`${url}/v1/package/files/deploy-key.pem`);
  const body = await key.text();
  t.equal(key.status, 404, 'the key is not served');
  t.notMatch(body, /PRIVATE KEY/);
  const model = await fetch(`${url}/v1/package/files/model.json`);
  t.equal(model.status, 200, 'a listed file is');
  await model.arrayBuffer();

  // The static phone site (npm run web -- --package --manifest) carries the same files as the route.
  const out = join(testRoot(t), 'web');
  const built = await buildStaticPhone(out, {
    packageDir: dir,
    manifestFile: file,
    trustedKeys: [signer.publicKey],
  });
  const shipped = built.map((f) => f.path).filter((p) => p.startsWith('phone/package/files/'));
  t.same(
    shipped.sort(),
    ['bookrec-package.json', 'catalogue.json', 'model.json', 'weights.bin'].map(
      (n) => `phone/package/files/${n}`,
    ),
  );
  t.notOk(existsSync(join(out, 'phone', 'package', 'files', 'deploy-key.pem')), 'no key on the static site');
});
