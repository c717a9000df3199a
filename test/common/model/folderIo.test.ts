import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { encodeHistory } from '../../../common/model/encoding.js';
import { encodeModelFiles, folderIo, loadModel, saveModel } from '../../../common/model/folderIo.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../../../common/model/modelJson.js';
import type { Quantization } from '../../../common/model/quantize.js';
import { scoreWithModel } from '../../../common/model/score.js';
import { fixtureEncoding, fixtureModel, randomHistories, topK } from '../../helpers/modelFixture.js';

const N = 300;
const K = 8;
const H = 16;
const NOW = new Date(Date.UTC(2026, 0, 1));

type Weights = Map<string, Float32Array>;

function weightsOf(model: tfl.LayersModel): Weights {
  return new Map(model.weights.map((w) => [w.originalName, new Float32Array(w.read().dataSync())]));
}

/**
 * The ranking-sensitive weights in float16, the big matrices in uint8 (what docs/model-package.md
 * suggests when plain uint8 moves the top-10 too much).
 */
const MIXED: Quantization = {
  default: 'uint8',
  byName: { 'neighbours/weights': 'float16', 'encode/bias': 'float16', 'decode/bias': 'float16' },
};
const MODES: [string, Quantization][] = [
  ['uint8', 'uint8'],
  ['float16', 'float16'],
  ['none', 'none'],
  ['mixed', MIXED],
];

/** Per-weight bound on |w - w'| that the quantisation promises, from what model.json says. */
function errorBound(w: Float32Array, spec: tf.io.WeightsManifestEntry): Float32Array {
  const q = spec.quantization;
  if (q === undefined || q.dtype === 'uint16') return new Float32Array(w.length);
  // The last terms: tfjs rounds the dequantised value (computed in float64) to float32.
  if (q?.dtype === 'uint8') return w.map((v) => q.scale! / 2 + Math.abs(v) * 2 ** -23 + 1e-12);
  return w.map((v) => Math.abs(v) * 2 ** -11 + 2 ** -25);
}

t.test('quantised weights stay within the bound of each mode; sources come back exactly', async (t) => {
  await useBackend('cpu');
  for (const [mode, quantization] of MODES) {
    const dir = t.testdir();
    const model = fixtureModel(N, K, H, 11);
    await saveModel(model, dir, quantization);
    const json = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as tf.io.ModelJSON;
    const specs = new Map(json.weightsManifest[0].weights.map((s) => [s.name, s]));
    const loaded = await loadModel(folderIo(dir));
    const before = weightsOf(model);
    const after = weightsOf(loaded);
    t.same([...after.keys()], [...before.keys()], `${mode}: the same weights`);
    for (const [name, w] of before) {
      const bound = errorBound(w, specs.get(name)!);
      const w2 = after.get(name)!;
      const worst = w.findIndex((v, i) => Math.abs(v - w2[i]) > bound[i]);
      t.equal(worst, -1, `${mode}: ${name} within its bound`);
    }
    t.same(after.get('neighbours/sources'), before.get('neighbours/sources'), `${mode}: sources exact`);
    const expectedQ = mode === 'none' ? undefined : 'uint16';
    t.equal(
      specs.get('neighbours/sources')!.quantization?.dtype,
      expectedQ,
      `${mode}: sources stored as ${expectedQ}`,
    );
    model.dispose();
    loaded.dispose();
  }
});

/**
 * A bound on |y - y'| for one history from the per-weight bounds e (derived by hand for this
 * architecture): the sparse path moves by sum_r |x[src]| e; the hidden pre-activation by
 * dh_k = sum_i |x_i| e1 + eb1, and tanh is 1-Lipschitz; the decoder by sum_k dh_k |W2'| + |a_k| e2 + eb2.
 */
function scoreBound(x: Float32Array, w: Weights, w2: Weights, e: Weights): Float64Array {
  const [k1, b1, k2, b2, ws, src] = [
    'encode/kernel',
    'encode/bias',
    'decode/kernel',
    'decode/bias',
    'neighbours/weights',
    'neighbours/sources',
  ];
  const [W1, B1, E1, EB1] = [w.get(k1)!, w.get(b1)!, e.get(k1)!, e.get(b1)!];
  const [W2loaded, E2, EB2, S, ES] = [w2.get(k2)!, e.get(k2)!, e.get(b2)!, w.get(src)!, e.get(ws)!];
  const dh = new Float64Array(H);
  const a = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    let h = B1[k];
    let d = EB1[k];
    for (let i = 0; i < N; i++) {
      if (x[i] === 0) continue;
      h += x[i] * W1[i * H + k];
      d += Math.abs(x[i]) * E1[i * H + k];
    }
    a[k] = Math.tanh(h);
    dh[k] = d;
  }
  const out = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let b = EB2[j];
    for (let k = 0; k < H; k++) b += dh[k] * Math.abs(W2loaded[k * N + j]) + Math.abs(a[k]) * E2[k * N + j];
    for (let r = 0; r < K; r++) b += Math.abs(x[S[j * K + r]]) * ES[j * K + r];
    out[j] = b;
  }
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  t.test(`export -> load round trip on ${backend}: scores within the bound, top-10 kept`, async (t) => {
    t.equal(await useBackend(backend), backend);
    const encoding = fixtureEncoding(N);
    const inputs = randomHistories(200, N, 3).map((h) => encodeHistory(encoding, h, NOW));
    for (const [mode, quantization] of MODES) {
      const dir = t.testdir();
      const model = fixtureModel(N, K, H, 7);
      await saveModel(model, dir, quantization);
      const json = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as tf.io.ModelJSON;
      const specs = new Map(json.weightsManifest[0].weights.map((s) => [s.name, s]));
      const tensorsBefore = tf.memory().numTensors;
      const loaded = await loadModel(folderIo(dir));
      const original = scoreWithModel(model, inputs, N);
      const reloaded = scoreWithModel(loaded, inputs, N);
      const w = weightsOf(model);
      const w2 = weightsOf(loaded);
      const e = new Map([...w].map(([name, v]) => [name, errorBound(v, specs.get(name)!)]));
      let outside = 0;
      let sameTop = 0;
      let overlap = 0;
      let worstRatio = 0;
      for (const [b, x] of inputs.entries()) {
        const bound = scoreBound(x, w, w2, e);
        for (let j = 0; j < N; j++) {
          const diff = Math.abs(original[b * N + j] - reloaded[b * N + j]);
          if (diff > bound[j] + 1e-4) outside++;
          if (bound[j] > 0) worstRatio = Math.max(worstRatio, diff / bound[j]);
        }
        const [before, after] = [topK(original, N, b, 10), topK(reloaded, N, b, 10)];
        if (before.join() === after.join()) sameTop++;
        overlap += before.filter((i) => after.includes(i)).length / 10 / inputs.length;
      }
      t.equal(
        outside,
        0,
        `${mode}: every score within its derived bound (worst diff/bound ${worstRatio.toFixed(3)})`,
      );
      const rates = `top-10 identical (same books, same order) for ${sameTop}/200, mean overlap ${overlap.toFixed(3)}`;
      if (mode === 'uint8') {
        // Plain per-tensor uint8 reorders close neighbours in this random fixture (its adjacent top-10
        // score gaps are often below one quantisation step); it keeps the top-10 set nearly intact.
        t.ok(overlap >= 0.95, `uint8: ${rates}`);
      } else {
        t.ok(sameTop >= 190, `${mode}: ${rates} (>= 95% identical)`);
      }
      if (mode === 'none') t.same(reloaded, original, 'none: identical scores');
      loaded.dispose();
      t.equal(tf.memory().numTensors, tensorsBefore, `${mode}: load + predict + dispose leaves no tensors`);
      model.dispose();
    }
  });
}

t.test('tfjs own loader reads the folder too (tf.loadLayersModel(handler))', async (t) => {
  await useBackend('cpu');
  const dir = t.testdir();
  const model = fixtureModel(40, 4, 4, 2);
  await saveModel(model, dir);
  const ours = await loadModel(folderIo(dir));
  const theirs = await tfl.loadLayersModel(folderIo(dir));
  const x = [Float32Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? 1 : 0))];
  t.same(scoreWithModel(theirs, x, 40), scoreWithModel(ours, x, 40));
  tf.dispose([model, ours, theirs].flatMap((m) => m.weights.map((v) => v.read())));
});

t.test('bad model folders are refused with MODEL_* errors, and nothing stays allocated', async (t) => {
  await useBackend('cpu');
  const dir = t.testdir();
  const model = fixtureModel(20, 2, 4, 5);
  await saveModel(model, dir);
  const good = await readFile(join(dir, MODEL_FILE), 'utf8');
  const weights = await readFile(join(dir, WEIGHTS_FILE));
  const json = () => JSON.parse(good) as tf.io.ModelJSON & Record<string, unknown>;
  const load = async (modelJson: string | object, bin: Uint8Array = weights) => {
    const files = new Map<string, Uint8Array>([
      [
        MODEL_FILE,
        new TextEncoder().encode(typeof modelJson === 'string' ? modelJson : JSON.stringify(modelJson)),
      ],
      [WEIGHTS_FILE, bin],
    ]);
    return loadModel(folderIo('/nowhere', { read: async (name) => files.get(name)! }));
  };
  const before = tf.memory().numTensors;
  const withEntry = (patch: Record<string, unknown>) => {
    const j = json();
    Object.assign(j.weightsManifest[0].weights[0], patch);
    return j;
  };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['not JSON', () => load('{"modelTopology":'), /model.json: not valid JSON/],
    ['an array', () => load('[]'), /not a JSON object/],
    ['no topology', () => load({ ...json(), modelTopology: 3 }), /modelTopology is missing/],
    ['two groups', () => load({ ...json(), weightsManifest: [] }), /exactly one group/],
    [
      'other paths',
      () => load({ ...json(), weightsManifest: [{ paths: ['../x.bin'], weights: [] }] }),
      /paths must be/,
    ],
    [
      'weights not a list',
      () => load({ ...json(), weightsManifest: [{ paths: [WEIGHTS_FILE], weights: {} }] }),
      /must be an array/,
    ],
    [
      'entry not an object',
      () => load({ ...json(), weightsManifest: [{ paths: [WEIGHTS_FILE], weights: [1] }] }),
      /weight 0 is not an object/,
    ],
    ['no name', () => load(withEntry({ name: '' })), /weight 0 has no name/],
    ['bad shape', () => load(withEntry({ shape: [-1] })), /shape must be/],
    ['bad dtype', () => load(withEntry({ dtype: 'string' })), /dtype "string"/],
    ['bad quantization', () => load(withEntry({ quantization: 'uint8' })), /quantization must be an object/],
    ['no scale', () => load(withEntry({ quantization: { dtype: 'uint8', min: 0 } })), /bad scale/],
    ['no min', () => load(withEntry({ quantization: { dtype: 'uint16', scale: 1 } })), /bad min/],
    [
      'bool quantized',
      () => load(withEntry({ dtype: 'bool', quantization: { dtype: 'uint8', min: 0, scale: 1 } })),
      /bool weights/,
    ],
    [
      'float16 int',
      () => load(withEntry({ dtype: 'int32', quantization: { dtype: 'float16' } })),
      /float16 needs/,
    ],
    ['int4', () => load(withEntry({ quantization: { dtype: 'int4' } })), /"int4" is not uint8/],
    [
      'truncated weights',
      () => load(good, weights.subarray(0, weights.length - 3)),
      /weights.bin has \d+ bytes but model.json describes \d+ \(truncated/,
    ],
    [
      'unknown layer',
      () => load(good.replaceAll('"SparseFanIn"', '"NoSuchLayer"')),
      /topology does not load/,
    ],
  ];
  for (const [what, run, message] of cases) {
    await t.rejects(run(), { code: 'MODEL_INVALID', message }, what);
  }
  // Weights of another architecture: the topology builds, the weights do not fit; the half-built model
  // must be freed.
  const other = t.testdir();
  const wider = fixtureModel(20, 2, 6, 5);
  await saveModel(wider, other);
  wider.dispose();
  const otherJson = JSON.parse(await readFile(join(other, MODEL_FILE), 'utf8')) as tf.io.ModelJSON;
  await t.rejects(
    load(
      { ...json(), weightsManifest: otherJson.weightsManifest },
      await readFile(join(other, WEIGHTS_FILE)),
    ),
    { code: 'MODEL_INVALID', message: /weights.bin does not fit the model/ },
  );
  t.equal(tf.memory().numTensors, before, 'no tensors left behind by any failed load');
  await t.rejects(loadModel(folderIo(join(dir, 'absent'))), {
    code: 'MODEL_MISSING_FILE',
    message: /absent\/model.json is missing/,
  });
  await t.rejects(loadModel({}), { code: 'MODEL_INVALID', message: /cannot load/ });
  model.dispose();
});

t.test('saving refuses what it cannot store exactly, before writing anything', async (t) => {
  await useBackend('cpu');
  const dir = t.testdir();
  const model = fixtureModel(20, 2, 4, 5);
  const layer = model.getLayer('neighbours');
  const [w, s] = layer.getWeights();
  const fractional = tf.add(s, tf.scalar(0.5));
  layer.setWeights([w, fractional]);
  await t.rejects(saveModel(model, dir), {
    code: 'MODEL_QUANTIZE',
    message: /neighbours\/sources: index 0?\.?\d*\.5 at 0/,
  });
  t.same(await readdir(dir), [], 'no files written');
  t.throws(() => folderIo(dir, { quantization: 'int8' as 'uint8' }), { code: 'MODEL_QUANTIZE' });
  t.throws(() => encodeModelFiles({ modelTopology: new ArrayBuffer(1) }, 'uint8'), { code: 'MODEL_SAVE' });
  const empty = encodeModelFiles({ modelTopology: {} }, 'uint8');
  t.equal(empty.weights.length, 0, 'a model without weights has an empty weights.bin');
  // getWeights() hands out the variables themselves: only our own tensor is ours to dispose.
  fractional.dispose();
  model.dispose();
});
