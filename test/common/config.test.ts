import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { settingsOf } from '../../common/flags.js';
import { deployConfig, fleetSchema, publishSchema } from '../../deploy/config.js';
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
    message: /^invalid configuration: seed: must be a positive integer: value was -4$/,
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
      doc: 'Folder with the goodbooks-10k CSV files (ratings.csv, books.csv, to_read.csv)',
      default: 'data/goodbooks-10k',
      kind: 'string',
      choices: undefined,
      sensitive: false,
      group: '',
    },
  );
});
