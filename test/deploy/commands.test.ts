import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import type { CommandContext } from '../../common/command.js';
import { useBackend } from '../../common/model/backend.js';
import { freePort } from '../../deploy/mosquittoProcess.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { packageDir } from '../helpers/release.js';

const run = promisify(execFile);
// Model packages are written with tfjs (the fixtures' student).
t.before(() => useBackend('wasm'));

/** Runs `bookrec ARGS` in-process with deploy's password in the environment. */
async function bookrec(args: string[], extra: Partial<CommandContext> = {}) {
  const { ctx, out, err, log } = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  const code = await main(args, { ...ctx, ...extra });
  return { code, out: out.join('\n'), err: err.join('\n'), log };
}

/** Runs `bookrec ARGS` with only these variables (no HOME or XDG_CONFIG_HOME from this process). */
async function bookrecIn(args: string[], env: NodeJS.ProcessEnv) {
  const { ctx, out, err } = testContext(env);
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('keys: a 0600 private key, the public key printed, no silent overwrite', async (t) => {
  const dir = await packageDir(t, []);
  const file = join(dir, 'k.pem');
  const made = await bookrec(['keys', '--key-file', file]);
  t.equal(made.code, 0, made.err);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'private key readable by its owner only');
  const pub = (await readFile(join(dir, 'k.pub'), 'utf8')).trim();
  t.match(made.out, pub, 'the public key is printed');
  const again = await bookrec(['keys', '--key-file', file]);
  t.equal(again.code, 1);
  t.match(again.err, /exists; pass --force.*\[KEY_EXISTS\]/);
  t.equal((await bookrec(['keys', '--key-file', file, '--force'])).code, 0);
  t.not((await readFile(join(dir, 'k.pub'), 'utf8')).trim(), pub, 'forced: a new key');
});

t.test('keys default to the user config folder, never the working tree', async (t) => {
  const home = t.testdir();
  const xdg = await bookrecIn(['keys'], { XDG_CONFIG_HOME: join(home, 'xdg') });
  t.equal(xdg.code, 0, xdg.err);
  t.match(xdg.out, `private key: ${join(home, 'xdg', 'bookrec', 'deploy-key.pem')} (mode 0600`);
  t.equal((await stat(join(home, 'xdg', 'bookrec'))).mode & 0o777, 0o700, 'the folder is the owner’s');
  const plain = await bookrecIn(['keys'], { HOME: home });
  t.match(plain.out, `private key: ${join(home, '.config', 'bookrec', 'deploy-key.pem')}`);
  const publish = await bookrecIn(['rollback', '--broker', 'mqtt://127.0.0.1:1'], {
    HOME: join(home, 'nobody'),
  });
  t.match(
    publish.err,
    /signing key .*nobody\/\.config\/bookrec\/deploy-key\.pem: ENOENT \(make one with bookrec keys\) \[KEY_MISSING\]/,
  );
  const ignored = await run('git', ['check-ignore', '-q', 'deploy-key.pem']).then(
    () => true,
    () => false,
  );
  t.ok(ignored, '*.pem is ignored by git, should one be made here with --key-file');
});

t.test('publish, rollout, rollback and fleet through the CLI against mosquitto', async (t) => {
  const broker = await mosquitto(t);
  const keyDir = await packageDir(t, []);
  const key = join(keyDir, 'deploy.pem');
  t.equal((await bookrec(['keys', '--key-file', key])).code, 0);
  const connection = ['--broker', broker.url, '--username', 'deploy', '--quiet-ms', '100'];
  const common = [...connection, '--key-file', key, '--channel', 'stable'];
  // A model package as `bookrec train` writes it (publish checks it on the devices' code first).
  const pkg = (await makePackage(join(keyDir, 'student'), { n: 60, modelId: 'student' })).dir;

  const p1 = await bookrec(['publish', pkg, ...common, '--percent', '10', '--chunk-size', '16384'], {});
  t.equal(p1.code, 0, p1.err);
  t.match(p1.out, /published stable\/student version 1 .*\d+ files, \d+ bytes, \d+ chunks, rollout 10%/);
  const p2 = await bookrec(['publish', pkg, ...common, '--model', 'student-b']);
  t.match(p2.out, /published stable\/student-b version 2/);
  t.notOk(
    p2.log.lines.some((l) => JSON.stringify(l).includes(TEST_USERS.deploy)),
    'the password never reaches a log line',
  );

  const r = await bookrec(['rollout', ...common, '--percent', '50']);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /stable version 2 now at 50%/);
  const noPercent = await bookrec(['rollout', ...common]);
  t.equal(noPercent.code, 2);
  t.match(noPercent.err, /give --percent/);

  const b = await bookrec(['rollback', ...common]);
  t.equal(b.code, 0, b.err);
  t.match(b.out, /stable rolled back to version 1/);

  const dev = await connectAs(t, broker.url, 'dev-a');
  const status = {
    schema: 1,
    deviceId: 'dev-a',
    state: 'online',
    agentVersion: '0.2.0',
    model: { channel: 'stable', model: 'student', version: 1 },
    lastUpdate: { channel: 'stable', version: 1, result: 'installed', at: '2025-01-01T00:00:00Z' },
    uptimeSeconds: 9,
    at: new Date().toISOString(),
  };
  await dev.publishAsync('bookrec/devices/dev-a/status', JSON.stringify(status), { qos: 1, retain: true });
  const f = await bookrec(['fleet', ...connection]);
  t.equal(f.code, 0, f.err);
  t.match(
    f.out,
    /^dev-a +online +now +0\.2\.0 +stable +student@1 +in \(100% of v1\) +installed v1 +-$/m,
    'after the rollback the channel is at v1 for everyone',
  );
  t.match(f.out, /1 device \(1 online, 0 offline\); stable\/student@1: 1/);
  const j = await bookrec(['fleet', ...connection, '--json']);
  t.match(JSON.parse(j.out), {
    devices: [
      { deviceId: 'dev-a', state: 'online', channel: 'stable', install: { state: 'installed', version: 1 } },
    ],
    releases: [{ channel: 'stable', version: 1, percent: 100 }],
  });

  // Live mode into a pipe: one line per device at first, then one per change.
  const controller = new AbortController();
  const outLines: string[] = [];
  const watching = bookrec(['fleet', ...connection, '--watch'], {
    signal: controller.signal,
    print: (text) => outLines.push(text),
  });
  for (let i = 0; i < 100 && outLines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.match(outLines[0], /^\d\d:\d\d:\d\d dev-a: state online, .*install installed v1$/);
  await dev.publishAsync('bookrec/devices/dev-a/status', JSON.stringify({ ...status, state: 'offline' }), {
    qos: 1,
    retain: true,
  });
  for (let i = 0; i < 100 && !outLines.some((l) => /offline/.test(l)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  controller.abort();
  t.equal((await watching).code, 0);
  t.match(outLines.at(-1), /^\d\d:\d\d:\d\d dev-a: state online -> offline$/, 'the change as one line');
  t.notOk(
    outLines.some((l) => l.includes('\x1b')),
    'no terminal codes in a pipe',
  );

  // On a terminal the table is redrawn in place.
  const screen = new AbortController();
  const frames: string[] = [];
  const drawing = bookrec(['fleet', ...connection, '--watch'], {
    signal: screen.signal,
    interactive: true,
    print: (text) => frames.push(text),
  });
  for (let i = 0; i < 100 && frames.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  screen.abort();
  await drawing;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequence is what is tested
  t.match(frames[1], /^\x1b\[Hdevice +state/, 'cursor home, then the table');

  // forget: refused for a device that says online (without --force), refused by an ACL, then done.
  await dev.publishAsync('bookrec/devices/dev-a/status', JSON.stringify(status), { qos: 1, retain: true });
  const online = await bookrec(['fleet', 'forget', 'dev-a', ...connection]);
  t.equal(online.code, 1);
  t.match(online.err, /dev-a says it is online: .*pass --force \[DEVICE_ONLINE\]/);
  await dev.publishAsync('bookrec/devices/dev-a/status', JSON.stringify({ ...status, state: 'offline' }), {
    qos: 1,
    retain: true,
  });
  await dev.publishAsync('homeassistant/device/dev-a/config', '{}', {
    qos: 1,
    retain: true,
  });
  const readOnly = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.homeassistant });
  const refused = await main(
    ['fleet', 'forget', 'dev-a', '--broker', broker.url, '--username', 'homeassistant', '--quiet-ms', '100'],
    readOnly.ctx,
  );
  t.equal(refused, 1);
  t.match(readOnly.err.join('\n'), /the broker kept bookrec\/devices\/dev-a\/status.*\[FORGET_REFUSED\]/);
  const gone = await bookrec(['fleet', 'forget', 'dev-a', ...connection]);
  t.equal(gone.code, 0, gone.err);
  t.match(
    gone.out,
    /^forgot dev-a: cleared 2 retained topics \(bookrec\/devices\/dev-a\/status, homeassistant\/device\/dev-a\/config\)$/,
  );
  t.match((await bookrec(['fleet', ...connection])).out, /no devices yet/);
  t.match((await bookrec(['fleet', 'forget', 'dev-a', ...connection])).out, /nothing retained for dev-a/);
});

t.test('usage errors, help and unreachable brokers', async (t) => {
  const none = await bookrec(['publish', '--channel', 'stable']);
  t.equal(none.code, 2);
  t.match(none.err, /missing PACKAGE_DIR/);
  const typo = await bookrec(['publish', 'x', '--chanel', 'stable']);
  t.equal(typo.code, 2);
  t.match(typo.err, /unknown option --chanel/);
  const help = await bookrec(['publish', '--help']);
  t.match(help.out, /--password PASSWORD .*\[secret, \$BOOKREC_MQTT_PASSWORD\]/);
  const badPercent = await bookrec(['rollout', '--percent', '150']);
  t.equal(badPercent.code, 2);
  t.match(badPercent.err, /percent/);

  const port = await freePort();
  const dir = await packageDir(t, []);
  await bookrec(['keys', '--key-file', join(dir, 'k.pem')]);
  const down = await bookrec([
    'fleet',
    '--broker',
    `mqtt://deploy:hunter2@127.0.0.1:${port}`,
    '--timeout-seconds',
    '2',
  ]);
  t.equal(down.code, 1);
  t.match(down.err, /cannot connect to mqtt:\/\/127\.0\.0\.1:\d+.*\[BROKER_UNREACHABLE\]/);
  t.notMatch(down.err, /hunter2/, 'credentials in the URL are not repeated');
  const noKey = await bookrec(['rollback', '--key-file', join(dir, 'missing.pem')]);
  t.match(noKey.err, /\[KEY_MISSING\]/);
});

t.test('broker: the embedded aedes broker serves until stopped', async (t) => {
  const controller = new AbortController();
  const printed: string[] = [];
  const running = bookrec(['broker', '--port', '0'], {
    signal: controller.signal,
    print: (s) => printed.push(s),
  });
  for (let i = 0; i < 50 && printed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const url = /listening on (mqtt:\/\/\S+)/.exec(printed[0] ?? '')?.[1];
  t.ok(url, printed.join('\n'));
  const client = await connectAs(t, url!, 'dev-a');
  await client.publishAsync('bookrec/x', 'y', { qos: 1 });
  controller.abort();
  t.equal((await running).code, 0);
  t.match(printed.at(-1), /broker stopped/);
});

t.test('TLS: deploy talks to mosquitto over TLS with the configured CA', async (t) => {
  const dir = await packageDir(t, []);
  const ossl = (args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ossl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test-ca',
    '-days',
    '1',
  ]);
  await ossl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await ossl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  ]);
  const tlsPort = await freePort();
  await mosquitto(t, {
    extra: [
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'tls_version tlsv1.2',
    ],
  });
  const url = `mqtts://127.0.0.1:${tlsPort}`;
  const ok = await bookrec(['fleet', '--broker', url, '--username', 'deploy', '--ca', join(dir, 'ca.crt')]);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /no devices yet/);
  const untrusted = await bookrec([
    'fleet',
    '--broker',
    url,
    '--username',
    'deploy',
    '--timeout-seconds',
    '3',
  ]);
  t.equal(untrusted.code, 1, 'without the CA the server certificate is not trusted');
  t.match(untrusted.err, /BROKER_UNREACHABLE/);
  const missing = await bookrec(['fleet', '--broker', url, '--ca', join(dir, 'nope.crt')]);
  t.match(missing.err, /CA certificate .*nope\.crt: ENOENT/);
});
