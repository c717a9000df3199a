import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { agentConfig } from '../../agent/config.js';
import { settingsOf } from '../../common/flags.js';
import { deployConfig, fleetSchema, publishSchema, rollbackSchema } from '../../deploy/config.js';
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
    code: 'USAGE',
    message:
      /^--backend \(backend\): must be one of the possible values: \["auto","wasm","cpu","node"\], got "gpu"$/,
  });
  t.throws(() => trainerConfig({ env: { BOOKREC_SEED: '-4' } }), {
    code: 'CONFIG_INVALID',
    message:
      /^invalid configuration: seed \(--seed, BOOKREC_SEED\): must be a positive integer: value was -4$/,
  });
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

t.test('one config file serves every deploy command; a key no command has is still an error', async (t) => {
  const dir = t.testdir({
    'deploy.json': JSON.stringify({
      broker: { url: 'mqtt://b:1884' },
      keyFile: '/k.pem',
      fleet: { watch: true },
    }),
    'typo.json': JSON.stringify({ broker: { url: 'mqtt://b:1884' }, keyFle: '/k.pem' }),
  });
  const fleet = deployConfig(fleetSchema, { file: join(dir, 'deploy.json') });
  t.equal(fleet.broker.url, 'mqtt://b:1884');
  t.equal(fleet.fleet.watch, true);
  t.notOk('keyFile' in fleet, "publish's key is not fleet's");
  t.equal(deployConfig(publishSchema, { file: join(dir, 'deploy.json') }).keyFile, '/k.pem');
  t.throws(() => deployConfig(fleetSchema, { file: join(dir, 'typo.json') }), {
    code: 'CONFIG_INVALID',
    message: /keyFle/,
  });
  t.throws(() => deployConfig(fleetSchema, { argv: ['--key-file', '/k.pem'] }), {
    code: 'USAGE',
    message: 'unknown option --key-file',
  });
});

t.test('flags are read as their settings are typed; the value names the flag when it is wrong', async (t) => {
  const c = trainerConfig({ argv: ['--models', '123', '--seed', '7'] });
  t.equal(c.evaluate.models, '123', 'a string setting stays a string, however it looks');
  t.equal(c.seed, 7);
  t.throws(() => trainerConfig({ argv: ['--seed', '1.5'] }), {
    code: 'USAGE',
    message: /^--seed \(seed\): must be a positive integer, got 1.5$/,
  });
  t.throws(() => trainerConfig({ argv: ['--sed', '1'] }), {
    code: 'USAGE',
    message: 'unknown option --sed (did you mean --seed?)',
  });
  t.same(
    settingsOf(trainerSchema).find((s) => s.flag === 'data'),
    {
      key: 'dataDir',
      flag: 'data',
      env: 'BOOKREC_DATA_DIR',
      doc: 'Data folder: ratings.csv (user, item), optionally books.csv (goodbooks) or items.csv (labels)',
      default: 'data/goodbooks-10k',
      kind: 'string',
      choices: undefined,
      sensitive: false,
      required: false,
      group: '',
    },
  );
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
    t.equal(
      deployConfig(rollbackSchema, { argv: ['--force', 'off'] }).rollback.force,
      false,
      'deploy flags too',
    );

    t.throws(() => env({ BOOKREC_SIGNALS_MQTT: 'maybe' }), {
      code: 'CONFIG_INVALID',
      message:
        /signals\.mqtt \(--signals-mqtt, BOOKREC_SIGNALS_MQTT\): must be true or false .*value was "maybe"/,
    });
    t.throws(() => flags('--hermes=n'), {
      code: 'USAGE',
      message: /--hermes is a switch: .*yes\/no.*not --hermes=n/,
    });
    t.throws(() => env({ BOOKREC_HERMES: 'n' }), {
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
