import * as tf from '@tensorflow/tfjs-core';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { kdLoss } from '../../../trainer/distill/kdLoss.js';

const logSoftmax = (z: number[]) => {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
};
const student = [2, 0.5, -1, 0];
const teacher = [3, 1, -2, 0.5];
const target = [1, 0, 0, 1];

/** The formula written out for one user, in plain numbers. */
function expected(alpha: number, T: number): number {
  const ls = logSoftmax(student);
  const hard = -target.reduce((s, y, i) => s + y * ls[i], 0);
  const lp = logSoftmax(teacher.map((v) => v / T));
  const lq = logSoftmax(student.map((v) => v / T));
  const kl = lp.reduce((s, l, i) => s + Math.exp(l) * (l - lq[i]), 0);
  const mass = target.reduce((s, v) => s + v, 0);
  return alpha * hard + (1 - alpha) * T * T * mass * kl;
}

const loss = (alpha: number, T: number, s = student, te = teacher) =>
  tf.tidy(
    () =>
      kdLoss(tf.tensor2d([s]), tf.tensor2d([te]), tf.tensor2d([target]), {
        alpha,
        temperature: T,
      }).dataSync()[0],
  );

t.before(async () => {
  await useBackend('cpu');
});

t.test('matches hand-computed values for a = 0, 0.5, 1 and T = 1, 4', async (t) => {
  for (const alpha of [0, 0.5, 1]) {
    for (const T of [1, 4]) {
      t.ok(Math.abs(loss(alpha, T) - expected(alpha, T)) < 1e-5, `a=${alpha} T=${T}`);
    }
  }
});

t.test('a = 1 ignores the teacher; the T^2 factor is applied', async (t) => {
  t.ok(Math.abs(loss(1, 4, student, [9, 9, -9, 0]) - loss(1, 4)) < 1e-6, 'teacher has no effect at a = 1');
  const ls = logSoftmax(student);
  t.ok(Math.abs(loss(1, 1) + ls[0] + ls[3]) < 1e-5, 'pure multinomial log-likelihood');
  // At a = 0 the loss is T^2 * m * KL: dividing by T^2 gives back the KL of the softened outputs.
  const kl4 = loss(0, 4) / 16 / 2;
  const lp = logSoftmax(teacher.map((v) => v / 4));
  const lq = logSoftmax(student.map((v) => v / 4));
  t.ok(Math.abs(kl4 - lp.reduce((s, l, i) => s + Math.exp(l) * (l - lq[i]), 0)) < 1e-6);
  t.equal(loss(0, 2, teacher, teacher), 0, 'a student equal to its teacher has zero soft loss');
});

t.test('no NaN or Infinity with extreme logits', async (t) => {
  const v = loss(0.5, 1, [1e4, -1e4, 0, 50], [-1e4, 1e4, 3e3, -80]);
  t.ok(Number.isFinite(v), `finite: ${v}`);
});

t.test('alpha < 1 without a teacher is an error; no tensors leak', async (t) => {
  const before = tf.memory().numTensors;
  const z = tf.zeros([1, 4]) as tf.Tensor2D;
  const o = tf.ones([1, 4]) as tf.Tensor2D;
  t.throws(() => kdLoss(z, null, o, { alpha: 0.5, temperature: 1 }), /teacher is needed/);
  tf.dispose([z, o]);
  t.equal(tf.memory().numTensors, before);
});
