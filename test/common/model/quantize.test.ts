import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import {
  affineRange,
  float32BitsToFloat16,
  isIndexWeight,
  quantizeFloat16,
  quantizeIndices,
  quantizeUint8,
  quantizeWeights,
} from '../../../common/model/quantize.js';
import { mulberry32 } from '../../../trainer/random.js';

/** What tfjs itself decodes from our bytes and manifest entry: the loader the device really runs. */
function tfjsDecode(bytes: Uint8Array, spec: tf.io.WeightsManifestEntry): Float32Array {
  const out = tf.io.decodeWeights(bytes.slice().buffer, [spec]);
  const values = out[spec.name].dataSync() as Float32Array;
  tf.dispose(out);
  return values;
}

function bitsOf(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0];
}

t.before(async () => {
  await useBackend('cpu');
});

t.test("uint8 affine: |w - w'| <= scale/2 through tfjs decodeWeights; zero stays exact", async (t) => {
  const rng = mulberry32(1);
  for (const [lo, hi] of [
    [-0.37, 1.91],
    [-3, -1],
    [0.5, 2],
    [-1e-3, 1e-3],
  ]) {
    const w = Float32Array.from({ length: 2000 }, (_, i) =>
      i === 0 ? lo : i === 1 ? hi : lo + (hi - lo) * rng(),
    );
    if (lo < 0 && hi > 0) w[2] = 0;
    const q = quantizeUint8(w);
    const back = tfjsDecode(q.bytes, {
      name: 'w',
      shape: [w.length],
      dtype: 'float32',
      quantization: { dtype: 'uint8', ...q },
    });
    const worst = Math.max(
      ...w.map((v, i) => Math.abs(v - back[i]) - (q.scale / 2 + Math.abs(v) * 2 ** -23)),
    );
    t.ok(worst <= 0, `[${lo}, ${hi}]: error within scale/2 (scale ${q.scale.toExponential(3)})`);
    t.ok(q.scale <= (hi - lo) / 255 + 1e-12, 'the grid spans the range in 255 steps');
    if (lo < 0 && hi > 0) t.equal(back[2], 0, 'zero is on the grid');
    else t.equal(q.min, lo, 'a range without zero starts at its minimum');
  }
});

t.test('uint8 edge cases: constant, empty, and a grid nudged past the top', async (t) => {
  t.same(affineRange(0.25, 0.25), { min: 0.25, scale: 1 }, 'a constant tensor decodes exactly');
  t.same(affineRange(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), { min: 0, scale: 1 }, 'empty');
  const c = quantizeUint8(Float32Array.of(0.25, 0.25));
  t.same([...c.bytes], [0, 0]);
  // min = -0.5 steps: nudging zero onto the grid shifts it by half a step, so the max needs q = 255.5.
  const step = 1 / 255;
  const w = Float32Array.of(-0.5 * step, 254.5 * step, 0);
  const q = quantizeUint8(w);
  t.equal(q.bytes[1], 255, 'clamped to 255, not wrapped to 0');
  const back = tfjsDecode(q.bytes, {
    name: 'w',
    shape: [3],
    dtype: 'float32',
    quantization: { dtype: 'uint8', ...q },
  });
  t.ok(Math.abs(back[1] - w[1]) <= q.scale / 2 + 1e-7);
  t.equal(back[2], 0);
});

t.test(
  'float16: every finite half value round-trips through tfjs, and rounding is to nearest even',
  async (t) => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
    const decoded = tfjsDecode(new Uint8Array(finite.buffer), {
      name: 'h',
      shape: [finite.length],
      dtype: 'float32',
      quantization: { dtype: 'float16' },
    });
    const again = quantizeFloat16(decoded, 'h');
    t.equal(
      again.findIndex((h, i) => h !== finite[i]),
      -1,
      'encode(decode(h)) = h for all finite h, subnormals and -0 included',
    );
    t.equal(float32BitsToFloat16(bitsOf(1 + 2 ** -11)), 0x3c00, 'a tie rounds to the even mantissa (down)');
    t.equal(float32BitsToFloat16(bitsOf(1 + 3 * 2 ** -11)), 0x3c02, 'a tie rounds to the even mantissa (up)');
    t.equal(float32BitsToFloat16(bitsOf(2 ** -25)), 0, 'half the smallest subnormal ties to zero');
    t.equal(
      float32BitsToFloat16(bitsOf(1.5 * 2 ** -25)),
      1,
      'more than half rounds up to the smallest subnormal',
    );
    t.equal(float32BitsToFloat16(bitsOf(65519)), 0x7bff, '65519 rounds down to 65504');
    t.equal(float32BitsToFloat16(bitsOf(-1e-9)), 0x8000, 'tiny negatives keep their sign');
    t.equal(float32BitsToFloat16(bitsOf(Number.NaN)) & 0x7e00, 0x7e00, 'NaN stays NaN');
    t.throws(() => quantizeFloat16(Float32Array.of(1, 65520), 'big'), {
      code: 'MODEL_QUANTIZE',
      message: /big.*65520/,
    });
    const rng = mulberry32(2);
    const w = Float32Array.from({ length: 5000 }, () => (rng() - 0.5) * 10 ** (rng() * 8 - 6));
    const back = tfjsDecode(new Uint8Array(quantizeFloat16(w, 'w').buffer), {
      name: 'w',
      shape: [w.length],
      dtype: 'float32',
      quantization: { dtype: 'float16' },
    });
    t.ok(
      w.every((v, i) => Math.abs(v - back[i]) <= Math.abs(v) * 2 ** -11 + 2 ** -25),
      'relative error <= 2^-11 (absolute 2^-25 below the normal range)',
    );
  },
);

t.test('index weights: exact uint16, anything else refused', async (t) => {
  t.ok(isIndexWeight('neighbours/sources'));
  t.ok(isIndexWeight('sources'));
  t.notOk(isIndexWeight('neighbours/resources_bias'));
  t.same([...quantizeIndices(Float32Array.of(0, 7, 65535), 's')], [0, 7, 65535]);
  t.throws(() => quantizeIndices(Float32Array.of(1.5), 'x/sources'), {
    code: 'MODEL_QUANTIZE',
    message: /x\/sources: index 1.5/,
  });
  t.throws(() => quantizeIndices(Float32Array.of(-1), 's'), { code: 'MODEL_QUANTIZE' });
  t.throws(() => quantizeIndices(Float32Array.of(65536), 's'), {
    code: 'MODEL_QUANTIZE',
    message: /0\.\.65535/,
  });
});

t.test('quantizeWeights: per-weight modes, raw dtypes, and refusals', async (t) => {
  const f = Float32Array.of(0.5, -1, 2);
  const src = Float32Array.of(2, 0, 1);
  const ints = Int32Array.of(-7, 9);
  const data = new Uint8Array([
    ...new Uint8Array(f.buffer),
    ...new Uint8Array(src.buffer),
    ...new Uint8Array(ints.buffer),
  ]);
  const specs: tf.io.WeightsManifestEntry[] = [
    { name: 'd/kernel', shape: [3], dtype: 'float32' },
    { name: 'n/sources', shape: [3], dtype: 'float32' },
    { name: 'steps', shape: [2], dtype: 'int32' },
  ];
  const q = quantizeWeights(specs, data.buffer, { default: 'uint8', byName: { 'd/kernel': 'float16' } });
  t.same(
    q.specs.map((s) => s.quantization?.dtype),
    ['float16', 'uint16', undefined],
    'plan exception, indices as uint16, int32 untouched',
  );
  t.equal(q.data.length, 6 + 6 + 8);
  const decoded = tf.io.decodeWeights(q.data.slice().buffer, q.specs);
  t.same([...decoded['d/kernel'].dataSync()], [0.5, -1, 2]);
  t.same([...decoded['n/sources'].dataSync()], [2, 0, 1]);
  t.same([...decoded.steps.dataSync()], [-7, 9]);
  tf.dispose(decoded);
  const none = quantizeWeights(specs, data.buffer, 'none');
  t.same(none.data, data, "'none' keeps the bytes as they are");
  t.throws(
    () => quantizeWeights(specs, data.buffer, { default: 'uint8', byName: { 'd/kernl': 'float16' } }),
    {
      code: 'MODEL_QUANTIZE',
      message: /d\/kernl/,
    },
  );
  t.throws(() => quantizeWeights(specs, data.buffer, 'int4' as 'uint8'), {
    code: 'MODEL_QUANTIZE',
    message: /int4/,
  });
  t.throws(() => quantizeWeights(specs, data.buffer.slice(0, 10), 'uint8'), { message: /ends early/ });
  t.throws(() => quantizeWeights(specs.slice(0, 1), data.buffer, 'uint8'), { message: /describe 12/ });
  const nan = Float32Array.of(Number.NaN);
  t.throws(() => quantizeWeights([{ name: 'b', shape: [1], dtype: 'float32' }], nan.buffer, 'none'), {
    message: /b: value NaN/,
  });
  t.throws(() => quantizeWeights([{ name: 's', shape: [1], dtype: 'string' }], new ArrayBuffer(4), 'uint8'), {
    message: /dtype string/,
  });
  t.throws(
    () =>
      quantizeWeights(
        [{ name: 'q', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: 1 } }],
        new ArrayBuffer(1),
        'uint8',
      ),
    { message: /already quantized/ },
  );
});
