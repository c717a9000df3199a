import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';

/** Products with every transpose combination, computed on wasm (patched kernel) and on cpu. */
async function products(backend: 'wasm' | 'cpu'): Promise<number[][]> {
  await useBackend(backend);
  const a = tf.tensor2d(
    Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
    [3, 4],
  );
  const b = tf.tensor2d(
    Array.from({ length: 8 }, (_, i) => Math.cos(i + 2)),
    [4, 2],
  );
  const at = tf.transpose(a);
  const bt = tf.transpose(b);
  const out = [
    tf.matMul(a, b),
    tf.matMul(at, bt, true, true),
    tf.matMul(at, b, true, false),
    tf.matMul(a, bt, false, true),
  ];
  const values = out.map((x) => Array.from(x.dataSync()));
  tf.dispose([a, b, at, bt, ...out]);
  return values;
}

t.test('transposed products on wasm equal the cpu backend', async (t) => {
  const cpu = await products('cpu');
  const before = tf.memory().numTensors;
  const wasm = await products('wasm');
  t.equal(tf.memory().numTensors, before, 'the explicit transposes are freed');
  wasm.forEach((vals, k) => {
    for (const [i, v] of vals.entries()) t.ok(Math.abs(v - cpu[k][i]) < 1e-5, `product ${k}[${i}]`);
    t.same(
      vals.map((v) => Math.round(v * 1e4)),
      cpu[0].map((v) => Math.round(v * 1e4)),
      `variant ${k} = a b`,
    );
  });
});
