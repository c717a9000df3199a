import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { describeSchema, schemaFlags } from '../../common/config.js';
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
