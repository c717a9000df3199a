import * as tf from '@tensorflow/tfjs-core';
import { BookrecError } from '../errors.js';
import type { Logger } from '../log.js';
import { installFastTransposedMatMul } from './wasmMatMul.js';

/**
 * Chooses the TensorFlow.js backend. wasm is the default fast path (ships in its npm package, SIMD,
 * works offline and on ARM); cpu is the pure-JS fallback; tfjs-node is used only when it is installed
 * and loads (it downloads libtensorflow at install, which fails offline and on many boards).
 */
export type BackendName = 'auto' | 'wasm' | 'cpu' | 'node';

async function tryNode(): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript from requiring the optional package at build time.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return tf.findBackend('tensorflow') !== null;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    installFastTransposedMatMul();
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-cpu');
  return tf.setBackend('cpu');
}

/** Sets the backend and returns the one in use. `auto` tries node, then wasm, then cpu. */
export async function useBackend(name: BackendName, log?: Logger): Promise<'wasm' | 'cpu' | 'tensorflow'> {
  const attempts: Record<Exclude<BackendName, 'auto'>, () => Promise<boolean>> = {
    node: async () => (await tryNode()) && tf.setBackend('tensorflow'),
    wasm: tryWasm,
    cpu: tryCpu,
  };
  const order: Exclude<BackendName, 'auto'>[] = name === 'auto' ? ['node', 'wasm', 'cpu'] : [name];
  for (const candidate of order) {
    if (await attempts[candidate]()) {
      await tf.ready();
      const active = tf.getBackend() as 'wasm' | 'cpu' | 'tensorflow';
      log?.debug('tfjs backend', { requested: name, active });
      return active;
    }
  }
  throw new BookrecError('BACKEND_UNAVAILABLE', `tfjs backend "${name}" could not be loaded`);
}
