import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { makeBatch } from '../../../trainer/distill/batches.js';
import { fit } from '../../../trainer/distill/fit.js';
import { layersTrainable } from '../../../trainer/distill/layersTrainable.js';
import { mlpStudent } from '../../../trainer/distill/models.js';
import { fanInFromColumns } from '../../../trainer/distill/structure.js';
import { WideDeepTeacher } from '../../../trainer/distill/teacher.js';
import { mulberry32 } from '../../../trainer/random.js';

t.before(async () => {
  await useBackend('wasm');
});

t.test('fanInFromColumns keeps each column’s largest weights and never a book itself', async (t) => {
  // B[i][j]: weight from i to j (3 x 3)
  const b = Float32Array.from([9, 1, 5, 4, 9, 7, 2, 3, 9]);
  const s = fanInFromColumns(b, 3, 1);
  t.same(Array.from(s.sources), [1, 2, 1], 'column 0: row 1 (4) beats row 2 (2); the diagonal is skipped');
  t.same(Array.from(s.weights), [4, 3, 7]);
  const two = fanInFromColumns(b, 3, 2);
  t.same(Array.from(two.sources.subarray(0, 2)), [1, 2]);
});

t.test('makeBatch: dropped-item targets are what was removed from the input', async (t) => {
  const rows = [Int32Array.from([0, 2, 4, 6, 8, 9])];
  const batch = makeBatch(rows, 10, 0.5, mulberry32(1), 'dropped');
  for (let j = 0; j < 10; j++) {
    t.ok(!(batch.input[j] === 1 && batch.target[j] === 1), `book ${j} is not both input and target`);
  }
  t.equal(batch.input.reduce((a, v) => a + v, 0) + batch.target.reduce((a, v) => a + v, 0), 6);
  const all = makeBatch(rows, 10, 0.5, mulberry32(1), 'all');
  t.equal(
    all.target.reduce((a, v) => a + v, 0),
    6,
    "'all' targets the whole row",
  );
});

t.test('teacher: wide scores are sums of rows; calibration picks the likelihood optimum', async (t) => {
  const n = 4;
  const b = Float32Array.from([0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 1, 0, 0, 0]);
  const teacher = new WideDeepTeacher(n, b, [], 1);
  t.same(Array.from(teacher.wideScores([Int32Array.from([0, 1])])), [0, 1, 2, 0]);
  // Targets always sit where the wide score is high: the sharpest scale in the grid fits best.
  const batch = {
    size: 1,
    input: new Float32Array(n),
    kept: [Int32Array.from([0])],
    target: Float32Array.from([0, 1, 0, 0]),
  };
  t.equal(teacher.calibrateScale(batch, [1, 4, 16]).scale, 16);
  t.equal(teacher.scale.dataSync()[0], 16);
  teacher.dispose();
});

t.test('fit: no tensor leaks across epochs; the best epoch’s weights are restored', async (t) => {
  const items = 40;
  const rng = mulberry32(2);
  const rows = Array.from({ length: 64 }, (_, u) =>
    Int32Array.from(new Set([u % items, (u * 7) % items, Math.floor(rng() * items)])).sort(),
  );
  const model = mlpStudent(items, 4, 1);
  const trainable = layersTrainable(model);
  const counts: number[] = [];
  const scores = [0.3, 0.5, 0.2, 0.1];
  let call = 0;
  let bestWeights: Float32Array | undefined;
  const result = await fit(trainable, rows, {
    items,
    epochs: 4,
    batchSize: 16,
    learningRate: 0.01,
    keep: 0.5,
    seed: 1,
    patience: 2,
    validate: async () => {
      counts.push(tf.memory().numTensors);
      const v = scores[call++];
      if (call === 2) bestWeights = Float32Array.from(trainable.variables[0].dataSync() as Float32Array);
      return v;
    },
  });
  t.equal(result.bestEpoch, 1);
  t.equal(result.history.length, 4, 'patience 2: epochs 2 and 3 run, then stop');
  t.ok(
    counts.every((c) => c === counts[0]),
    `tensor count stable across epochs: ${counts.join(',')}`,
  );
  t.same(Array.from(trainable.variables[0].dataSync()), Array.from(bestWeights!), 'best weights restored');
  model.dispose();
});
