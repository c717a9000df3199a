import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { invertSources } from '../../../common/model/fanInIndex.js';
import { SparseFanIn, sparseFanInApply } from '../../../common/model/sparseFanIn.js';
import { mulberry32 } from '../../../trainer/random.js';

const N = 12;
const K = 3;
const rng = mulberry32(5);
const sources = Float32Array.from({ length: N * K }, () => Math.floor(rng() * N));
const weights = Float32Array.from({ length: N * K }, () => rng() - 0.5);
const x = Float32Array.from({ length: 2 * N }, () => (rng() < 0.3 ? 1 + Math.floor(rng() * 3) : 0));

/** y[b, j] = sum_r x[b, sources[j, r]] * weights[j, r], written out plainly. */
function reference(): number[] {
  const y: number[] = [];
  for (let b = 0; b < 2; b++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let r = 0; r < K; r++) s += x[b * N + sources[j * K + r]] * weights[j * K + r];
      y.push(s);
    }
  return y;
}

for (const backend of ['cpu', 'wasm'] as const) {
  t.test(`forward and weight gradient match the plain formula (${backend})`, async (t) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const edges = invertSources(sources, N, K, N);
    const xt = tf.tensor2d(x, [2, N]);
    const w = tf.tidy(() => tf.variable(tf.tensor2d(weights, [N, K])));
    const y = tf.tidy(() => sparseFanInApply(xt, w, edges));
    const got = Array.from(y.dataSync());
    for (const [i, v] of reference().entries()) t.ok(Math.abs(v - got[i]) < 1e-5, `y[${i}]`);
    // d(sum(y * c))/dw[j, r] = c[b, j] * x[b, sources[j, r]] summed over b
    const c = Float32Array.from({ length: 2 * N }, (_, i) => (i % 5) - 2);
    const ct = tf.tensor2d(c, [2, N]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(sparseFanInApply(xt, w, edges), ct)) as tf.Scalar,
      [w],
    );
    const g = grads[w.name].dataSync();
    for (let j = 0; j < N; j++)
      for (let r = 0; r < K; r++) {
        let expected = 0;
        for (let b = 0; b < 2; b++) expected += c[b * N + j] * x[b * N + sources[j * K + r]];
        t.ok(Math.abs(g[j * K + r] - expected) < 1e-5, `grad[${j},${r}]`);
      }
    tf.dispose([xt, w, ct, y, value, ...Object.values(grads)]);
    t.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });
}

t.test('as a layer inside a model, with weights set from outside', async (t) => {
  await useBackend('cpu');
  const input = tfl.input({ shape: [N] });
  const layer = new SparseFanIn({ units: N, fanIn: K });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  layer.setWeights([tf.tensor2d(weights, [N, K]), tf.tensor2d(sources, [N, K])]);
  const y = model.predict(tf.tensor2d(x, [2, N])) as tf.Tensor;
  const got = Array.from(y.dataSync());
  t.ok(reference().every((v, i) => Math.abs(v - got[i]) < 1e-5));
  t.equal(layer.trainableWeights.length, 1, 'only the weights train, not the sources');
  t.same(layer.getConfig().fanIn, K);
});

t.test('an all-zero input gives zeros; bad sources are rejected', async (t) => {
  await useBackend('cpu');
  const y = sparseFanInApply(
    tf.zeros([1, N]) as tf.Tensor2D,
    tf.zeros([N, K]),
    invertSources(sources, N, K, N),
  );
  t.same(Array.from(y.dataSync()), new Array(N).fill(0));
  t.throws(() => invertSources([0, 99, 1], 1, 3, 10), /source 99/);
  t.throws(() => invertSources([0, 1.5, 1], 1, 3, 10), /source 1.5/);
});
