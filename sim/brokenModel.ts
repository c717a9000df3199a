import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BookrecError } from '../common/errors.js';
import { readPackage, writePackage } from '../common/model/modelPackage.js';
import type { PackageManifest } from '../common/model/packageManifest.js';
import { mulberry32, shuffle } from '../trainer/random.js';

/**
 * A deliberately broken model that nothing before the quality gate can catch: a good package's model
 * with its output item order scrambled (score i is what the good model gives book perm[i]), and the
 * catalogue, encoding and fallback left as they were. It is the bug of an exporter that writes the
 * catalogue in one item order and the weights in another. Every weight is a real, finite, trained
 * value, so the package passes the package reader, the signature, the receiver's checksums and the
 * agent's self-test (finite scores of the right width), and recommends plausible-looking books that
 * have nothing to do with the listener's history.
 *
 * Supported layers (the students this project trains): SparseFanIn (rows of weights and sources are the
 * output items) and a Dense layer whose units are the items (kernel columns and bias).
 */
export async function writeScrambledPackage(
  goodDir: string,
  outDir: string,
  seed: number,
): Promise<PackageManifest> {
  const pkg = await readPackage(goodDir);
  try {
    const items = pkg.catalogue.length;
    const perm = shuffle(
      Int32Array.from({ length: items }, (_, i) => i),
      mulberry32(seed),
    );
    const changed = scrambleOutputs(pkg.model, perm);
    if (changed === 0) {
      throw new BookrecError(
        'SIM_BROKEN_MODEL',
        `${goodDir}: no layer with ${items} output items to scramble (SparseFanIn or Dense expected)`,
      );
    }
    const m = pkg.manifest;
    return await writePackage(outDir, {
      modelId: `${m.modelId}-scrambled`,
      model: pkg.model,
      catalogue: pkg.catalogue,
      encoding: m.encoding,
      fallback: m.fallback,
      metrics: {},
      params: { ...(m.params as Record<string, string | number>), broken: 'output item order permuted' },
      quantization: m.quantization,
    });
  } finally {
    pkg.model.dispose();
  }
}

/** Permutes the output items of every layer that produces them; returns how many layers changed. */
export function scrambleOutputs(model: tfl.LayersModel, perm: Int32Array): number {
  const items = perm.length;
  const index = tf.tensor1d(perm, 'int32');
  let changed = 0;
  try {
    for (const layer of model.layers) {
      const weights = layer.getWeights();
      if (weights.length === 0) continue;
      const className = layer.getClassName();
      let next: tf.Tensor[] | undefined;
      if (className === 'SparseFanIn' && weights.every((w) => w.shape[0] === items)) {
        // [items, fanIn] weights and sources: row i says which books feed book i, and how much.
        next = weights.map((w) => tf.gather(w, index, 0));
      } else if (className === 'Dense' && weights[0].shape[1] === items) {
        // kernel [hidden, items] and bias [items].
        next = [tf.gather(weights[0], index, 1), ...weights.slice(1).map((w) => tf.gather(w, index, 0))];
      }
      if (!next) continue;
      layer.setWeights(next);
      tf.dispose(next);
      changed++;
    }
  } finally {
    index.dispose();
  }
  return changed;
}
