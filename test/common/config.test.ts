import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { agentConfig } from '../../agent/config.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { deployConfig } from '../../deploy/config.js';
import { trainerConfig, trainerSchema } from '../../trainer/config.js';

t.test('defaults when nothing is given', async (t) => {
  const c = trainerConfig();
  t.equal(c.seed, 42);
  t.equal(c.backend, 'auto');
  t.equal(c.dataDir, 'data/goodbooks-10k');
});

t.test('precedence: default < file < env < flags', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ seed: 1, dataDir: 'from-file', outDir: 'file-out' }));
  const fileOnly = trainerConfig({ file });
  t.equal(fileOnly.seed, 1);
  const env = { BOOKREC_SEED: '2', BOOKREC_DATA_DIR: 'from-env' };
  const withEnv = trainerConfig({ file, env });
  t.equal(withEnv.seed, 2, 'env beats file');
  t.equal(withEnv.outDir, 'file-out', 'file beats default');
  const withFlags = trainerConfig({ env, argv: ['--config', file, '--data', 'from-flag', '--seed=3'] });
  t.equal(withFlags.dataDir, 'from-flag', 'flag beats env');
  t.equal(withFlags.seed, 3);
  t.equal(withFlags.outDir, 'file-out', '--config loads the file');
});

t.test('bad values are rejected naming the key and the value', async (t) => {
  t.throws(() => trainerConfig({ argv: ['--backend', 'gpu'] }), {
    code: 'CONFIG_INVALID',
    message: /backend.*gpu/,
  });
  t.throws(() => trainerConfig({ env: { BOOKREC_SEED: '-4' } }), { code: 'CONFIG_INVALID', message: /seed/ });
  const dir = t.testdir({ 'bad.json': '{"seed": 1, "sede": 2}', 'broken.json': '{nope' });
  t.throws(
    () => trainerConfig({ file: join(dir, 'bad.json') }),
    { message: /sede/ },
    'unknown key in a file',
  );
  t.throws(() => trainerConfig({ file: join(dir, 'broken.json') }), {
    code: 'CONFIG_FILE',
    message: /not valid JSON/,
  });
  t.throws(() => trainerConfig({ file: join(dir, 'missing.json') }), {
    code: 'CONFIG_FILE',
    message: /ENOENT/,
  });
});

t.test('the schema documents every flag', async (t) => {
  const flags = schemaFlags(trainerSchema);
  t.ok(flags.includes('data') && flags.includes('seed') && flags.includes('models'));
  const doc = describeSchema(trainerSchema).join('\n');
  t.match(doc, /--data, \$BOOKREC_DATA_DIR/);
});

t.test(
  'booleans: true/false, 1/0, yes/no, on/off from env, flags and files; anything else an error',
  async (t) => {
    const base = { BOOKREC_DEVICE_ID: 'a', BOOKREC_STATE_DIR: '/tmp/bookrec-config-test' };
    const env = (extra: NodeJS.ProcessEnv) => agentConfig({ env: { ...base, ...extra } });
    for (const word of ['no', 'NO', '0', 'off', 'false', 'Off']) {
      t.equal(env({ BOOKREC_SIGNALS_MQTT: word }).signals.mqtt, false, `BOOKREC_SIGNALS_MQTT=${word}`);
      t.equal(env({ BOOKREC_HERMES: word }).hermes.enabled, false, `BOOKREC_HERMES=${word}`);
    }
    for (const word of ['yes', '1', 'on', 'true', 'TRUE']) {
      t.equal(env({ BOOKREC_HERMES: word }).hermes.enabled, true, `BOOKREC_HERMES=${word}`);
    }
    const flags = (...argv: string[]) => agentConfig({ env: base, argv });
    t.equal(flags('--signals-mqtt', 'no').signals.mqtt, false, '--signals-mqtt no');
    t.equal(flags('--signals-mqtt', '0').signals.mqtt, false, '--signals-mqtt 0');
    t.equal(flags('--signals-mqtt=off').signals.mqtt, false, '--signals-mqtt=off');
    t.equal(flags('--no-signals-mqtt').signals.mqtt, false, '--no-signals-mqtt');
    t.equal(flags('--hermes').hermes.enabled, true, 'a bare flag is true');
    t.equal(flags('--hermes', '1').hermes.enabled, true, '--hermes 1');
    t.equal(flags('--hermes', '--count', '5').hermes.enabled, true, 'a bare flag before another');
    t.equal(flags('--gpio-active-low', 'no').gpio.activeLow, false);
    const dir = t.testdir({
      'c.json': JSON.stringify({ signals: { mqtt: 'off' }, hermes: { enabled: true } }),
    });
    const fromFile = agentConfig({ env: base, file: join(dir, 'c.json') });
    t.same(
      [fromFile.signals.mqtt, fromFile.hermes.enabled],
      [false, true],
      'a file: words and JSON booleans',
    );
    t.equal(deployConfig({ argv: ['--force', 'off'] }).force, false, 'deploy flags too');

    t.throws(() => env({ BOOKREC_SIGNALS_MQTT: 'maybe' }), {
      code: 'CONFIG_INVALID',
      message:
        /signals\.mqtt \(--signals-mqtt, BOOKREC_SIGNALS_MQTT\): must be true or false .*value was "maybe"/,
    });
    t.throws(() => flags('--hermes', 'n'), {
      code: 'CONFIG_INVALID',
      message: /hermes\.enabled \(--hermes, BOOKREC_HERMES\): .*did you mean false\?/,
    });
    t.throws(
      () =>
        agentConfig({ env: base, file: join(t.testdir({ 'd.json': '{"hermes":{"enabled":2}}' }), 'd.json') }),
      {
        code: 'CONFIG_INVALID',
        message: /hermes\.enabled/,
      },
    );
  },
);
