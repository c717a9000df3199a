import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { agentConfig } from '../../agent/config.js';
import { main } from '../../cli/bookrec.js';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { nearest } from '../../common/suggest.js';
import { startEmbeddedBroker } from '../../deploy/broker.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * Issue 21, item 11: errors that name the fix. Each case of the issue with the message it gave before
 * (in the test's name) and what it says now.
 */
async function bookrec(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { ctx, out, err } = testContext(env);
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('one suggestion helper: the nearest candidate within a few edits, or none', async (t) => {
  t.equal(nearest('homeassitant', ['homeassistant', 'hermes', 'output']), 'homeassistant');
  t.equal(nearest('fecth', ['fetch']), 'fetch');
  t.equal(nearest('verison', ['version', 'help']), 'version');
  t.equal(nearest('frobnicate', ['fetch', 'version']), undefined);
});

t.test('bookrec --verison and -v (was: unknown command "--verison")', async (t) => {
  const typo = await bookrec(['--verison']);
  t.equal(typo.code, 2);
  t.equal(
    typo.err,
    'bookrec: unknown option --verison (did you mean --version?); bookrec --help lists the commands [USAGE]',
  );
  const short = await bookrec(['-v']);
  t.equal(short.code, 2);
  t.match(short.err, /^bookrec: unknown option -v \(did you mean --version\?\)/);
  t.match(await bookrec(['--hepl']), { err: /unknown option --hepl \(did you mean --help\?\)/ });
});

t.test('bookrec data fecth (was: "data" needs a command)', async (t) => {
  const r = await bookrec(['data', 'fecth']);
  t.equal(r.code, 2);
  t.equal(
    r.err,
    'bookrec: unknown command "data fecth" (did you mean "data fetch"?); the data commands: bookrec data fetch [USAGE]',
  );
  t.equal((await bookrec(['data'])).err, 'bookrec: "data" needs a command: bookrec data fetch [USAGE]');
});

t.test('a misspelt config key gets a suggestion; "count": "three" is reported as given', async (t) => {
  const dir = t.testdir();
  const env = { BOOKREC_DEVICE_ID: 'a', BOOKREC_STATE_DIR: join(dir, 'state') };
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  // Was: "configuration param 'homeassitant' not declared in the schema".
  t.throws(() => agentConfig({ env, file: file('typo.json', { homeassitant: { enabled: true } }) }), {
    code: 'CONFIG_INVALID',
    message: /homeassitant\.enabled: homeassitant is not a setting \(did you mean homeassistant\?\)/,
  });
  t.throws(() => agentConfig({ env, file: file('nested.json', { output: { cont: 3 } }) }), {
    message: /output\.cont: not a setting \(did you mean output\.count\?\)/,
  });
  // Was: "must be an integer 1..20 (books), got null".
  t.throws(() => agentConfig({ env, file: file('three.json', { output: { count: 'three' } }) }), {
    code: 'CONFIG_INVALID',
    message: /output\.count \(--count\): must be an integer 1\.\.20 \(books\), got "three"/,
  });
});

t.test('publish --key-file deploy-key.pub (was: error:1E08010C:DECODER routines::unsupported)', async (t) => {
  await useBackend('wasm');
  const dir = t.testdir();
  t.equal((await bookrec(['keys', '--key-file', join(dir, 'deploy-key.pem')])).code, 0);
  const pkg = (await makePackage(join(dir, 'pkg'), { n: 40, modelId: 'student' })).dir;
  const pub = join(dir, 'deploy-key.pub');
  // The key is read before any network: no broker is needed to see the error.
  const r = await bookrec(['publish', pkg, '--key-file', pub, '--broker', 'mqtt://127.0.0.1:9']);
  t.equal(r.code, 1);
  t.equal(
    r.err,
    `bookrec publish: ${pub} is a public key (what devices trust); pass the .pem private key that signs, e.g. --key-file ${join(dir, 'deploy-key.pem')} [KEY_INVALID]`,
  );
  writeFileSync(join(dir, 'notes.txt'), 'not a key\n');
  const other = await bookrec([
    'publish',
    pkg,
    '--key-file',
    join(dir, 'notes.txt'),
    '--broker',
    'mqtt://127.0.0.1:9',
  ]);
  t.match(other.err, /notes\.txt is not a PEM private key; pass the \.pem file bookrec keys wrote/);
});

t.test('a missing package folder (was: "package /x: ENOENT")', async (t) => {
  const missing = join(t.testdir(), 'out', 'package');
  const publish = await bookrec(['publish', missing, '--broker', 'mqtt://127.0.0.1:9']);
  t.equal(publish.code, 1);
  t.equal(
    publish.err,
    `bookrec publish: package ${missing}: no such folder (bookrec train writes the package to OUT/package; give that folder) [PACKAGE_MISSING]`,
  );
  const serve = await bookrec(['serve', '--package', missing, '--port', '0']);
  t.equal(serve.code, 1);
  t.match(serve.err, /package folder .*out\/package does not exist \(bookrec train writes the package/);
});

t.test('broker --port on a taken port (was: "cannot listen on 127.0.0.1:N: EADDRINUSE")', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const r = await bookrec(['broker', '--port', String(port)]);
  t.equal(r.code, 1);
  t.equal(
    r.err,
    `bookrec broker: cannot listen on 127.0.0.1:${port}: the port is taken (is mosquitto or another broker running there?); run on another port with --port ${port + 1} (or --port 0 for any free one), then connect with --broker mqtt://127.0.0.1:${port + 1} [BROKER_LISTEN]`,
  );
});

t.test('mqtts:// against a plain MQTT port (was: "read ECONNRESET")', async (t) => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: createMemoryLogger('error') });
  t.teardown(() => broker.stop());
  const url = `mqtts://127.0.0.1:${broker.port}`;
  const r = await bookrec(['fleet', '--broker', url, '--timeout-seconds', '10']);
  t.equal(r.code, 1);
  t.match(
    r.err,
    new RegExp(
      `cannot connect to mqtts://127\\.0\\.0\\.1:${broker.port}: 127\\.0\\.0\\.1:${broker.port} did not speak TLS .*is it a plain MQTT port\\? Use mqtt:// for it, or the broker's TLS port \\(usually 8883\\) with mqtts://`,
    ),
  );
  t.notMatch(r.err, /^[^(]*ECONNRESET/, 'not a bare ECONNRESET');
});
