import * as tf from '@tensorflow/tfjs-core';
import { BookrecError } from '../../common/errors.js';
import { invertSpd } from './cholesky.js';

/**
 * Inverse of a large SPD matrix with TensorFlow.js's wasm backend: XNNPACK's SIMD matmul runs ~5x
 * faster than the best plain-JS kernel here (sweep.ts), so the algorithm is chosen to be nothing but
 * matmuls: recursive block inversion through the Schur complement,
 *   inv([[A, B], [B^T, D]]) = [[Ai + V W^T, -V], [-V^T, Si]]
 *   with Ai = A^-1, W = Ai B, S = D - B^T W, Si = S^-1, V = W Si,
 * which costs 4/3 n^3 flops against n^3 for Cholesky, all of them in large float32 matmuls. Blocks of
 * up to `base` rows are inverted in float64 by Cholesky. float32 is enough for the regularised Gram
 * matrices it serves (EASE), whose condition number the ridge term bounds.
 */
export interface WasmInverseOptions {
  /** Blocks this small or smaller are inverted in JS (float64). */
  base?: number;
  /** Rows of the result finished so far (a rough measure: the last rows cost the most). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Switches tfjs to the wasm backend for the duration of `work` and back to the previous backend after
 * (the tfjs engine is process-wide state other models may rely on). Fails with BACKEND_UNAVAILABLE when
 * the backend does not load.
 */
export async function withWasmBackend<T>(work: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend() as string | null;
  let ok = false;
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    ok = await tf.setBackend('wasm');
  } catch (err) {
    throw new BookrecError('BACKEND_UNAVAILABLE', 'the tfjs wasm backend did not load', { cause: err });
  }
  if (!ok) throw new BookrecError('BACKEND_UNAVAILABLE', 'the tfjs wasm backend did not initialise');
  try {
    return await work();
  } finally {
    if (previous && previous !== 'wasm') await tf.setBackend(previous);
  }
}

/**
 * Inverts the n x n SPD matrix that `build` returns. The builder's array is only referenced until it is
 * copied into wasm memory, so the caller's 400 MB (at n = 10k) can be collected during the solve.
 * Returns the inverse as a new Float32Array (row-major, symmetric up to rounding).
 */
export async function invertSpdWasm(
  build: () => Float32Array,
  n: number,
  options: WasmInverseOptions = {},
): Promise<Float32Array> {
  return withWasmBackend(() => {
    const input = tf.tensor2d(build(), [n, n]);
    const progress = { done: 0, total: n, report: options.onProgress };
    const inverse = invertSpdTensor(input, Math.max(1, options.base ?? 256), progress);
    try {
      return inverse.dataSync() as Float32Array;
    } finally {
      inverse.dispose();
    }
  });
}

interface Progress {
  done: number;
  total: number;
  report?: (done: number, total: number) => void;
}

/** Recursive Schur-complement inverse. Consumes (disposes) `g`; every intermediate is disposed as soon as it is dead. */
export function invertSpdTensor(g: tf.Tensor2D, base: number, progress?: Progress): tf.Tensor2D {
  const n = g.shape[0];
  if (n <= base) {
    const data = g.dataSync();
    g.dispose();
    const inverse = Float32Array.from(invertSpd(Float64Array.from(data), n));
    if (progress) {
      progress.done += n;
      progress.report?.(progress.done, progress.total);
    }
    return tf.tensor2d(inverse, [n, n]);
  }
  const n1 = n >> 1;
  const n2 = n - n1;
  const a = tf.slice(g, [0, 0], [n1, n1]);
  const b = tf.slice(g, [0, n1], [n1, n2]);
  const d = tf.slice(g, [n1, n1], [n2, n2]);
  g.dispose();

  const ai = invertSpdTensor(a, base, progress);
  const w = tf.matMul<tf.Tensor2D>(ai, b);
  // Transposes are explicit: tfjs-wasm's matMul with a transpose flag ran ~10x slower than a plain
  // matMul after a transpose (which costs little).
  const bt = tf.transpose<tf.Tensor2D>(b);
  b.dispose();
  const btw = tf.matMul<tf.Tensor2D>(bt, w);
  bt.dispose();
  const s = tf.sub<tf.Tensor2D>(d, btw);
  d.dispose();
  btw.dispose();

  const si = invertSpdTensor(s, base, progress);
  const v = tf.matMul<tf.Tensor2D>(w, si);
  const wt = tf.transpose<tf.Tensor2D>(w);
  w.dispose();
  const vwt = tf.matMul<tf.Tensor2D>(v, wt);
  wt.dispose();
  const topLeft = tf.add<tf.Tensor2D>(ai, vwt);
  ai.dispose();
  vwt.dispose();

  const negV = tf.neg<tf.Tensor2D>(v);
  v.dispose();
  const top = tf.concat<tf.Tensor2D>([topLeft, negV], 1);
  topLeft.dispose();
  const negVt = tf.transpose<tf.Tensor2D>(negV);
  negV.dispose();
  const bottom = tf.concat<tf.Tensor2D>([negVt, si], 1);
  negVt.dispose();
  si.dispose();
  const out = tf.concat<tf.Tensor2D>([top, bottom], 0);
  top.dispose();
  bottom.dispose();
  return out;
}
