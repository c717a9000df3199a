import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { invertSpd } from '../../../trainer/linalg/cholesky.js';
import { invertSpdWasm, withWasmBackend } from '../../../trainer/linalg/wasmInverse.js';
import { maxAbsDiff, randomSpd } from '../../helpers/matrices.js';

t.test('the recursive wasm inverse matches the float64 one to float32 precision', async (t) => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  for (const [n, base] of [
    [3, 8],
    [97, 16],
    [200, 64],
  ]) {
    const a = randomSpd(n, n, 5);
    const seen: number[] = [];
    const p = await invertSpdWasm(() => Float32Array.from(a), n, { base, onProgress: (d) => seen.push(d) });
    const exact = invertSpd(a, n);
    const scale = Math.max(...Array.from(exact, Math.abs));
    t.ok(maxAbsDiff(p, exact) < 1e-4 * scale, `n=${n} base=${base}`);
    t.equal(seen.at(-1), n, 'progress ends at n rows');
  }
  t.equal(tf.memory().numTensors, before, 'every intermediate tensor is disposed');
  t.equal(tf.getBackend(), 'cpu', 'the previous backend is restored');
});

t.test('an error inside the work still restores the backend', async (t) => {
  await tf.setBackend('cpu');
  await t.rejects(
    withWasmBackend(() => {
      throw new Error('boom');
    }),
    /boom/,
  );
  t.equal(tf.getBackend(), 'cpu');
});
