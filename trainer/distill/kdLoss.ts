import * as tf from '@tensorflow/tfjs-core';

/**
 * The distillation loss, per listener b:
 *   a * CE(student, true items) + (1 - a) * T^2 * m_b * KL(softmax(teacher/T) || softmax(student/T))
 * CE is the multinomial log-likelihood of the user's held items (summed over them, as in Mult-VAE/DAE),
 * so it carries m_b = number of true items of mass; the KL term is scaled by the same m_b so that soft
 * and hard targets weigh the same per user (with m_b = 1 a heavy reader's soft targets would count as
 * much as one book). T^2 keeps the soft gradients' size independent of T (Hinton et al. 2015).
 * Everything goes through log-softmax: no log of zero, no NaN for extreme logits.
 */
export interface KdOptions {
  /** Weight of the hard-label term, in [0, 1]; 1 = no distillation. */
  alpha: number;
  temperature: number;
}

/** Mean over the batch of the loss above. `teacherLogits` may be null only when alpha = 1. */
export function kdLoss(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D | null,
  targets: tf.Tensor2D,
  { alpha, temperature }: KdOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const mass = tf.sum(targets, 1);
    const hard = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(studentLogits)), 1));
    if (alpha >= 1 || teacherLogits === null) {
      if (alpha < 1) throw new Error('kdLoss: a teacher is needed when alpha < 1');
      return tf.mean(hard) as tf.Scalar;
    }
    const logP = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const logQ = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1);
    const soft = tf.mul(tf.mul(kl, mass), temperature * temperature);
    return tf.mean(tf.add(tf.mul(hard, alpha), tf.mul(soft, 1 - alpha))) as tf.Scalar;
  });
}
