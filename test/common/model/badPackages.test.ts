import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { MODEL_FILE } from '../../../common/model/modelJson.js';
import { readPackage, writePackage } from '../../../common/model/modelPackage.js';
import { type BadPackageCase, badPackageCases } from '../../helpers/badPackageCases.js';
import { parts, replaceFile } from '../../helpers/packageFixture.js';

t.test('bad packages are refused with a code and the file named, and nothing stays allocated', async (t) => {
  await useBackend('cpu');
  const root = t.testdir();
  const good = join(root, 'good');
  const p = parts('m');
  await writePackage(good, p);
  p.model.dispose();
  const before = tf.memory().numTensors;
  let n = 0;
  const cases: BadPackageCase[] = [
    ...(await badPackageCases(good)),
    [
      'model.json not loadable',
      'PACKAGE_INVALID',
      /model.json: topology|topology does not load/,
      async (d) => {
        const text = (await readFile(join(d, MODEL_FILE), 'utf8')).replaceAll('"Dense"', '"Densest"');
        await replaceFile(d, MODEL_FILE, text, true);
      },
    ],
  ];
  for (const [what, code, message, damage] of cases) {
    const dir = join(root, `bad-${n++}`);
    await cp(good, dir, { recursive: true });
    await damage(dir);
    await t.rejects(readPackage(dir), { code, message }, what);
  }
  t.equal(tf.memory().numTensors, before, 'no tensors allocated by any refused package');
  const pkg = await readPackage(good);
  t.equal(pkg.manifest.modelId, 'm', 'the undamaged package still reads');
  pkg.model.dispose();
});
