import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { CATALOGUE_FILE } from '../../../common/model/catalogue.js';
import { encodeHistory } from '../../../common/model/encoding.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../../../common/model/folderIo.js';
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

const N = 60;
const NOW = new Date(Date.UTC(2026, 0, 1));

type Json = Record<string, unknown> & { files: { name: string; size: number; sha256: string }[] };

function parts(modelId: string, seed = 1) {
  const catalogue = fixtureCatalogue(N);
  return {
    modelId,
    model: fixtureModel(N, 4, 8, seed),
    catalogue,
    encoding: fixtureEncoding(N),
    fallback: [catalogue[3].id, catalogue[0].id],
    metrics: { ndcg10: 0.251, recall20: 0.3 },
    params: { a: 0.5, T: 2, architecture: 'sparse-4-mlp-8', layers: [4, 8] },
    createdAt: NOW,
  };
}

async function readManifest(dir: string): Promise<Json> {
  return JSON.parse(await readFile(join(dir, PACKAGE_MANIFEST_FILE), 'utf8')) as Json;
}

async function writeManifest(dir: string, manifest: unknown): Promise<void> {
  await writeFile(join(dir, PACKAGE_MANIFEST_FILE), JSON.stringify(manifest));
}

/** Replaces a file and, when asked, makes the manifest agree with it (to reach the checks behind it). */
async function replaceFile(dir: string, name: string, bytes: Uint8Array | string, fixManifest: boolean) {
  await writeFile(join(dir, name), bytes);
  if (!fixManifest) return;
  const m = await readManifest(dir);
  const data = await readFile(join(dir, name));
  const entry = m.files.find((f) => f.name === name)!;
  entry.size = data.length;
  entry.sha256 = createHash('sha256').update(data).digest('hex');
  await writeManifest(dir, m);
}

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

t.test('bad packages are refused with a code and the file named, and nothing stays allocated', async (t) => {
  await useBackend('cpu');
  const root = t.testdir();
  const good = join(root, 'good');
  const p = parts('m');
  await writePackage(good, p);
  p.model.dispose();
  const manifest = await readManifest(good);
  const weights = await readFile(join(good, WEIGHTS_FILE));
  const catalogue = JSON.parse(await readFile(join(good, CATALOGUE_FILE), 'utf8')) as unknown[];
  const before = tf.memory().numTensors;
  let n = 0;
  const cases: [string, string, RegExp, (dir: string) => Promise<void>][] = [
    [
      'missing weights file',
      'PACKAGE_MISSING_FILE',
      /weights.bin is missing/,
      (d) => rm(join(d, WEIGHTS_FILE)),
    ],
    [
      'missing manifest',
      'PACKAGE_MISSING_FILE',
      /bookrec-package.json is missing/,
      (d) => rm(join(d, PACKAGE_MANIFEST_FILE)),
    ],
    [
      'wrong checksum',
      'PACKAGE_CHECKSUM',
      /weights.bin: sha256 [0-9a-f]{64} does not match/,
      async (d) => {
        const flipped = Uint8Array.from(weights);
        flipped[7] ^= 1;
        await replaceFile(d, WEIGHTS_FILE, flipped, false);
      },
    ],
    [
      'truncated weights.bin',
      'PACKAGE_SIZE',
      /weights.bin: \d+ bytes, the manifest says \d+/,
      async (d) => {
        await replaceFile(d, WEIGHTS_FILE, weights.subarray(0, weights.length - 100), false);
      },
    ],
    [
      'truncated weights.bin, manifest agreeing',
      'PACKAGE_INVALID',
      /weights.bin has \d+ bytes but model.json describes/,
      async (d) => {
        await replaceFile(d, WEIGHTS_FILE, weights.subarray(0, weights.length - 100), true);
      },
    ],
    [
      'wrong format version',
      'PACKAGE_FORMAT',
      /bookrec-package.json: format 2 is not supported \(this build reads format 1\)/,
      (d) => writeManifest(d, { ...manifest, format: 2 }),
    ],
    [
      'no format version',
      'PACKAGE_FORMAT',
      /format undefined is not supported/,
      (d) => writeManifest(d, { ...manifest, format: undefined }),
    ],
    [
      'malformed manifest',
      'PACKAGE_INVALID',
      /bookrec-package.json: not valid JSON/,
      (d) => writeFile(join(d, PACKAGE_MANIFEST_FILE), '{"format": 1,'),
    ],
    [
      'manifest not an object',
      'PACKAGE_INVALID',
      /the content must be a JSON object/,
      (d) => writeManifest(d, [1]),
    ],
    [
      'missing field',
      'PACKAGE_INVALID',
      /encoding is missing/,
      (d) => writeManifest(d, { ...manifest, encoding: undefined }),
    ],
    [
      'wrong type',
      'PACKAGE_INVALID',
      /modelId must be a string, not 5/,
      (d) => writeManifest(d, { ...manifest, modelId: 5 }),
    ],
    [
      'empty id',
      'PACKAGE_INVALID',
      /modelId must not be empty/,
      (d) => writeManifest(d, { ...manifest, modelId: '' }),
    ],
    [
      'unknown field',
      'PACKAGE_INVALID',
      /signature is not a known field/,
      (d) => writeManifest(d, { ...manifest, signature: 'x' }),
    ],
    [
      'bad date',
      'PACKAGE_INVALID',
      /createdAt "yesterday" is not an ISO 8601 date/,
      (d) => writeManifest(d, { ...manifest, createdAt: 'yesterday' }),
    ],
    [
      'path in a file name',
      'PACKAGE_INVALID',
      /files\[0\].name "..\/model.json" is not a plain file name/,
      (d) =>
        writeManifest(d, {
          ...manifest,
          files: [{ ...manifest.files[0], name: '../model.json' }, ...manifest.files.slice(1)],
        }),
    ],
    [
      'bad hash',
      'PACKAGE_INVALID',
      /files\[1\].sha256 must be 64 lowercase hex digits/,
      (d) =>
        writeManifest(d, {
          ...manifest,
          files: [manifest.files[0], { ...manifest.files[1], sha256: 'ABC' }, manifest.files[2]],
        }),
    ],
    [
      'file listed twice',
      'PACKAGE_INVALID',
      /files lists a file twice/,
      (d) => writeManifest(d, { ...manifest, files: [...manifest.files, manifest.files[0]] }),
    ],
    [
      'weights not listed',
      'PACKAGE_INVALID',
      /files does not list weights.bin/,
      (d) => writeManifest(d, { ...manifest, files: manifest.files.filter((f) => f.name !== WEIGHTS_FILE) }),
    ],
    [
      'other model file',
      'PACKAGE_INVALID',
      /modelFile must be "model.json"/,
      (d) => writeManifest(d, { ...manifest, modelFile: 'm.json' }),
    ],
    [
      'catalogue file = weights',
      'PACKAGE_INVALID',
      /catalogueFile must not be "weights.bin"/,
      (d) => writeManifest(d, { ...manifest, catalogueFile: WEIGHTS_FILE }),
    ],
    [
      'bad quantization',
      'PACKAGE_INVALID',
      /quantization "int4" is not one of uint8, float16, none/,
      (d) => writeManifest(d, { ...manifest, quantization: 'int4' }),
    ],
    [
      'bad plan',
      'PACKAGE_INVALID',
      /quantization.byName.x "int4"/,
      (d) => writeManifest(d, { ...manifest, quantization: { default: 'uint8', byName: { x: 'int4' } } }),
    ],
    [
      'metric not a number',
      'PACKAGE_INVALID',
      /metrics.ndcg10 must be a number, not "high"/,
      (d) => writeManifest(d, { ...manifest, metrics: { ndcg10: 'high' } }),
    ],
    [
      'fallback not an id',
      'PACKAGE_INVALID',
      /fallback\[1\] must be an integer >= 1, not 0/,
      (d) => writeManifest(d, { ...manifest, fallback: [1000, 0] }),
    ],
    [
      'fallback outside the catalogue',
      'PACKAGE_INVALID',
      /fallback book 99 is not in the catalogue/,
      (d) => writeManifest(d, { ...manifest, fallback: [99] }),
    ],
    [
      'catalogue shorter than the encoding',
      'PACKAGE_INVALID',
      /encoding.items is 60 but .*catalogue.json has 59 books/,
      (d) => replaceFile(d, CATALOGUE_FILE, JSON.stringify(catalogue.slice(1)), true),
    ],
    [
      'catalogue length != model width',
      'PACKAGE_INVALID',
      /catalogue.json has 59 books but .*model.json maps 60 inputs to 60 scores/,
      async (d) => {
        await replaceFile(d, CATALOGUE_FILE, JSON.stringify(catalogue.slice(1)), true);
        const m = await readManifest(d);
        await writeManifest(d, { ...m, encoding: { ...(m.encoding as object), items: 59 }, fallback: [] });
      },
    ],
    [
      'catalogue not JSON',
      'PACKAGE_INVALID',
      /catalogue.json: not valid JSON/,
      (d) => replaceFile(d, CATALOGUE_FILE, '[{', true),
    ],
    [
      'catalogue entry wrong',
      'PACKAGE_INVALID',
      /catalogue.json: \[2\].year must be an integer, not "1999" or null/,
      (d) =>
        replaceFile(
          d,
          CATALOGUE_FILE,
          JSON.stringify(catalogue.map((b, i) => (i === 2 ? { ...(b as object), year: '1999' } : b))),
          true,
        ),
    ],
    [
      'catalogue id twice',
      'PACKAGE_INVALID',
      /\[1\].id 1000 appears twice/,
      (d) =>
        replaceFile(d, CATALOGUE_FILE, JSON.stringify([catalogue[0], ...catalogue.slice(0, N - 1)]), true),
    ],
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
