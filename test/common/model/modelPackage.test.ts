import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { CATALOGUE_FILE } from '../../../common/model/catalogue.js';
import { encodeHistory } from '../../../common/model/encoding.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../../../common/model/modelJson.js';
import { readPackage, writePackage } from '../../../common/model/modelPackage.js';
import { PACKAGE_FORMAT_VERSION, PACKAGE_MANIFEST_FILE } from '../../../common/model/packageManifest.js';
import { scoreWithModel } from '../../../common/model/score.js';
import {
  fixtureCatalogue,
  fixtureEncoding,
  fixtureModel,
  randomHistories,
  topK,
} from '../../helpers/modelFixture.js';
import { N, NOW, parts, readManifest } from '../../helpers/packageFixture.js';

t.test('write -> read: manifest, catalogue, model and scores come back (wasm and cpu)', async (t) => {
  await useBackend('cpu');
  const dir = join(t.testdir(), 'package');
  const p = parts('student-1');
  const manifest = await writePackage(dir, { ...p, quantization: 'float16' });
  t.same(
    (await readdir(dir)).sort(),
    [PACKAGE_MANIFEST_FILE, CATALOGUE_FILE, MODEL_FILE, WEIGHTS_FILE].sort(),
  );
  const onDisk = await readManifest(dir);
  t.same(onDisk, JSON.parse(JSON.stringify(manifest)), 'the returned manifest is the one written');
  t.match(onDisk, {
    format: PACKAGE_FORMAT_VERSION,
    modelId: 'student-1',
    createdAt: NOW.toISOString(),
    modelFile: MODEL_FILE,
    catalogueFile: CATALOGUE_FILE,
    fallback: p.fallback,
    metrics: p.metrics,
    params: p.params,
    quantization: 'float16',
  });
  t.same(onDisk.encoding, p.encoding);
  for (const f of onDisk.files) {
    const data = await readFile(join(dir, f.name));
    t.equal(f.size, data.length, `${f.name} size`);
    t.equal(f.sha256, createHash('sha256').update(data).digest('hex'), `${f.name} sha256`);
  }
  const inputs = randomHistories(20, N, 9).map((h) => encodeHistory(p.encoding, h, NOW));
  for (const backend of ['wasm', 'cpu'] as const) {
    const before = tf.memory().numTensors;
    const pkg = await readPackage(dir, { backend });
    t.equal(tf.getBackend(), backend);
    t.same(pkg.catalogue, p.catalogue);
    t.same(pkg.manifest, manifest);
    const reloaded = scoreWithModel(pkg.model, inputs, N);
    pkg.model.dispose();
    t.equal(tf.memory().numTensors, before, `${backend}: read + score + dispose leaves no tensors`);
    const original = scoreWithModel(p.model, inputs, N);
    const same = inputs.filter((_, b) => topK(original, N, b, 10).join() === topK(reloaded, N, b, 10).join());
    t.ok(same.length >= 19, `${backend}: top-10 kept for ${same.length}/20`);
  }
  p.model.dispose();
});

t.test('writePackage replaces a package by renaming a complete folder into place', async (t) => {
  await useBackend('cpu');
  const root = t.testdir();
  const dir = join(root, 'pkg');
  const a = parts('a', 1);
  await writePackage(dir, a);
  const full = (await readdir(dir)).sort().join();
  const inodeA = (await stat(dir)).ino;
  // Look at the folder as often as possible while the next version is written: every look must find a
  // complete package (or, between the two renames, no folder), never a partial one.
  const seen = new Set<string>();
  let looks = 0;
  let writing = true;
  const watcher = (async () => {
    while (writing) {
      looks++;
      seen.add(
        await readdir(dir).then(
          (names) => names.sort().join(),
          (err) => (err as NodeJS.ErrnoException).code!,
        ),
      );
      await new Promise(setImmediate);
    }
  })();
  const b = parts('b', 2);
  await writePackage(dir, b);
  writing = false;
  await watcher;
  t.ok(
    seen.size > 0 && [...seen].every((s) => s === full || s === 'ENOENT'),
    `only whole packages in ${looks} looks: ${[...seen].join(' | ')}`,
  );
  t.not(
    (await stat(dir)).ino,
    inodeA,
    'a new folder, renamed into place, not files rewritten in the old one',
  );
  t.same(await readdir(root), ['pkg'], 'no temp or old folder left beside it');
  const read = await readPackage(dir);
  t.equal(read.manifest.modelId, 'b');
  read.model.dispose();

  // A write that fails half way leaves the old package untouched and no temp folder behind.
  const c = parts('c', 3);
  const layer = c.model.getLayer('neighbours');
  const [w, s] = layer.getWeights();
  const fractional = tf.add(s, tf.scalar(0.25));
  layer.setWeights([w, fractional]);
  fractional.dispose();
  const inodeB = (await stat(dir)).ino;
  await t.rejects(writePackage(dir, c), { code: 'MODEL_QUANTIZE' });
  t.equal((await stat(dir)).ino, inodeB, 'the old package is still in place');
  t.same(await readdir(root), ['pkg'], 'the temp folder was removed');
  const still = await readPackage(dir);
  t.equal(still.manifest.modelId, 'b');
  still.model.dispose();

  // Parts that do not fit together are refused before anything is written.
  const d = parts('d', 4);
  const fresh = join(root, 'deeper', 'pkg');
  await t.rejects(writePackage(fresh, { ...d, catalogue: d.catalogue.slice(1) }), {
    code: 'PACKAGE_INVALID',
    message: /the catalogue has 59 books but the model maps 60 inputs to 60 scores/,
  });
  await t.rejects(writePackage(fresh, { ...d, encoding: { ...d.encoding, items: 59 } }), {
    message: /the encoding is for 59 items, the catalogue has 60 books/,
  });
  await t.rejects(writePackage(fresh, { ...d, fallback: [5] }), {
    message: /fallback book 5 is not in the catalogue/,
  });
  await t.rejects(writePackage(fresh, { ...d, modelId: '' }), { message: /modelId must not be empty/ });
  t.same(await readdir(root), ['pkg'], 'refused writes leave nothing behind');
  await writePackage(fresh, d);
  t.same((await readdir(fresh)).sort().join(), full, 'parent folders are created');
  for (const m of [a, b, c, d]) m.model.dispose();
});

t.test('size of a shipped-size student: N = 10000, fanIn 16, Dense(16)', async (t) => {
  await useBackend('cpu');
  const items = 10_000;
  const root = t.testdir();
  const model = fixtureModel(items, 16, 16, 1);
  const catalogue = fixtureCatalogue(items);
  const base = {
    modelId: 'size',
    model,
    catalogue,
    encoding: fixtureEncoding(items),
    fallback: [catalogue[0].id],
  };
  const plan = {
    default: 'uint8' as const,
    byName: {
      'neighbours/weights': 'float16' as const,
      'encode/bias': 'float16' as const,
      'decode/bias': 'float16' as const,
    },
  };
  const sizes: Record<string, Record<string, number>> = {};
  for (const [name, quantization] of [
    ['uint8', 'uint8'],
    ['mixed', plan],
    ['float16', 'float16'],
  ] as const) {
    const dir = join(root, name);
    await writePackage(dir, { ...base, quantization });
    const files = Object.fromEntries((await readManifest(dir)).files.map((f) => [f.name, f.size]));
    files[PACKAGE_MANIFEST_FILE] = (await stat(join(dir, PACKAGE_MANIFEST_FILE))).size;
    sizes[name] = files;
    t.comment(`${name}: ${JSON.stringify(files)}; model ${files[MODEL_FILE] + files[WEIGHTS_FILE]} bytes`);
  }
  // uint8: 160000 (sparse weights) + 320000 (sources, uint16) + 160000 + 16 (encode) + 160000 + 10000 (decode)
  t.equal(sizes.uint8[WEIGHTS_FILE], 810_016, 'uint8 weights.bin holds exactly the expected bytes');
  t.equal(
    sizes.mixed[WEIGHTS_FILE],
    810_016 + 160_000 + 10_016,
    'mixed: sparse weights and biases at 2 bytes',
  );
  t.ok(sizes.uint8[MODEL_FILE] + sizes.uint8[WEIGHTS_FILE] < 1_000_000, 'uint8 model under 1 MB');
  t.ok(sizes.mixed[MODEL_FILE] + sizes.mixed[WEIGHTS_FILE] < 1_000_000, 'mixed model under 1 MB');
  const pkg = await readPackage(join(root, 'uint8'));
  const x = new Float32Array(items);
  x[42] = 1;
  t.equal(scoreWithModel(pkg.model, [x], items).length, items, 'it loads and scores');
  pkg.model.dispose();
  model.dispose();
});
