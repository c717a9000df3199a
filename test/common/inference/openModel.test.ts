import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { openModel } from '../../../common/inference/openModel.js';
import { useBackend } from '../../../common/model/backend.js';
import { encodeHistory } from '../../../common/model/encoding.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../../../common/model/modelJson.js';
import { readPackage, writePackage } from '../../../common/model/modelPackage.js';
import type { Quantization } from '../../../common/model/quantize.js';
import { scoreWithModel } from '../../../common/model/score.js';
import { tfjsEngineLoader } from '../../../common/model/tfjsEngine.js';
import { badPackageCases } from '../../helpers/badPackageCases.js';
import { fixtureEncoding, randomHistories } from '../../helpers/modelFixture.js';
import { N, NOW, parts, replaceFile } from '../../helpers/packageFixture.js';

t.before(() => useBackend('cpu'));

/** Writes a package of the fixture model; hidden 0 is the sparse student's topology. */
async function write(dir: string, hidden: number, quantization: Quantization) {
  const p = parts('m', 3, hidden);
  await writePackage(dir, { ...p, quantization });
  p.model.dispose();
  return dir;
}

const inputs = randomHistories(40, N, 11).map((h) => encodeHistory(fixtureEncoding(N), h, NOW));

/** The scores tfjs gives for the package's model, the reference the engines must match. */
async function tfjsScores(dir: string): Promise<Float32Array> {
  const pkg = await readPackage(dir);
  try {
    return scoreWithModel(pkg.model, inputs, N);
  } finally {
    pkg.model.dispose();
  }
}

t.test(
  'the sparse student runs in JS, score for score the same as tfjs, in every weight encoding',
  async (t) => {
    const plans: Quantization[] = [
      'none',
      'uint8',
      'float16',
      { default: 'uint8', byName: { 'neighbours/weights': 'float16' } },
    ];
    for (const [i, plan] of plans.entries()) {
      const dir = await write(join(t.testdir(), `p${i}`), 0, plan);
      const model = await openModel(nodePackageSource(dir));
      t.equal(model.engine.kind, 'sparse-js', JSON.stringify(plan));
      t.equal(model.catalogue.length, N);
      t.equal(model.index.get(model.catalogue[7].id), 7);
      const got = model.engine.score(inputs);
      const want = await tfjsScores(dir);
      t.same(Array.from(got), Array.from(want), `identical float32 scores (${JSON.stringify(plan)})`);
      t.ok(
        got.some((v) => v !== 0),
        'the scores are not all zero (the comparison means something)',
      );
      model.engine.dispose();
    }
  },
);

t.test('a model only tfjs runs: refused without a loader, the same scores with tfjs', async (t) => {
  const dir = await write(join(t.testdir(), 'deep'), 8, 'uint8');
  await t.rejects(openModel(nodePackageSource(dir)), {
    code: 'PACKAGE_UNSUPPORTED',
    message: /not a sparse student and no other engine is available/,
  });
  const model = await openModel(nodePackageSource(dir), { loadOther: tfjsEngineLoader({ backend: 'cpu' }) });
  t.equal(model.engine.kind, 'tfjs-cpu');
  t.same(Array.from(model.engine.score(inputs)), Array.from(await tfjsScores(dir)));
  model.engine.dispose();
});

t.test('bad packages: every package check, then the JS engine’s own', async (t) => {
  const root = t.testdir();
  const good = await write(join(root, 'good'), 0, 'uint8');
  const weights = await readFile(join(good, WEIGHTS_FILE));
  const modelJson = await readFile(join(good, MODEL_FILE), 'utf8');
  const cases = [
    ...(await badPackageCases(good)),
    [
      'a source index outside the catalogue',
      'PACKAGE_INVALID',
      /weights.bin: SparseFanIn: source 65535 at slot \d+ is not an input index below 60/,
      async (d: string) => {
        // The sources are the last N * 4 uint16 values of weights.bin.
        const bad = Uint8Array.from(weights);
        bad[bad.length - 1] = 0xff;
        bad[bad.length - 2] = 0xff;
        await replaceFile(d, WEIGHTS_FILE, bad, true);
      },
    ],
    [
      'truncated weights, manifest agreeing',
      'PACKAGE_INVALID',
      /weights.bin has \d+ bytes but model.json describes \d+/,
      (d: string) => replaceFile(d, WEIGHTS_FILE, weights.subarray(0, 100), true),
    ],
    [
      'a weight renamed',
      'PACKAGE_INVALID',
      /weight neighbours\/weights is missing/,
      (d: string) =>
        replaceFile(d, MODEL_FILE, modelJson.replace('neighbours/weights', 'neighbours/w'), true),
    ],
    [
      'a topology the JS engine does not know, and no other engine',
      'PACKAGE_UNSUPPORTED',
      /not a sparse student/,
      (d: string) =>
        replaceFile(d, MODEL_FILE, modelJson.replaceAll('"SparseFanIn"', '"SparseFanOut"'), true),
    ],
  ] as const;
  let n = 0;
  for (const [what, code, message, damage] of cases) {
    const dir = join(root, `bad-${n++}`);
    await cp(good, dir, { recursive: true });
    await damage(dir);
    await t.rejects(openModel(nodePackageSource(dir)), { code, message }, what);
  }
  const fine = await openModel(nodePackageSource(good));
  t.equal(fine.manifest.modelId, 'm', 'the undamaged package still opens');
});
