import { join } from 'node:path';
import t from 'tap';
import type { ScoringEngine } from '../../../common/inference/engine.js';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { type OpenModel, openModel } from '../../../common/inference/openModel.js';
import { selfTest } from '../../../common/inference/selfTest.js';
import { useBackend } from '../../../common/model/backend.js';
import { writePackage } from '../../../common/model/modelPackage.js';
import { parts } from '../../helpers/packageFixture.js';

t.before(() => useBackend('cpu'));

t.test('self-test: a real package passes; non-finite scores and a wrong width are refused', async (t) => {
  const p = parts('m', 1, 0);
  const dir = join(t.testdir(), 'pkg');
  await writePackage(dir, p);
  p.model.dispose();
  const good = await openModel(nodePackageSource(dir));
  t.doesNotThrow(() => selfTest(good));
  const items = good.catalogue.length;
  // The engine is the part under suspicion: a stand-in returns what a broken model would.
  const broken = (score: ScoringEngine['score']): OpenModel => ({
    ...good,
    engine: { kind: 'broken', items, score, dispose() {} },
  });
  t.throws(() => selfTest(broken((rows) => new Float32Array(rows.length * items).fill(Number.NaN))), {
    code: 'MODEL_SELF_TEST',
    message: /score 0 is NaN/,
  });
  t.throws(() => selfTest(broken((rows) => new Float32Array(rows.length * (items - 1)))), {
    code: 'MODEL_SELF_TEST',
    message: new RegExp(`${2 * (items - 1)} scores for 2 rows`),
  });
  const infinite = new Float32Array(2 * items);
  infinite[items + 3] = Number.POSITIVE_INFINITY;
  t.throws(() => selfTest(broken(() => infinite)), {
    code: 'MODEL_SELF_TEST',
    message: /score 3 is Infinity/,
  });
});
