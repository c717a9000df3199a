import * as tfl from '@tensorflow/tfjs-layers';
import { SparseFanIn } from '../../common/model/sparseFanIn.js';

/**
 * The student architectures. Every one maps a listener's history vector (items wide) to one logit per
 * book, so they share the package format, the encoding and the evaluation.
 */

/** The MLP student the brief names: items -> hidden (tanh) -> items. */
export function mlpStudent(items: number, hidden: number, seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [items], name: 'history' });
  const h = tfl.layers
    .dense({
      units: hidden,
      activation: 'tanh',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      name: 'encode',
    })
    .apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({
      units: items,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      name: 'decode',
    })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: `mlp-${hidden}` });
}

/**
 * The shipped student: a pruned item-to-item layer (each book scored from the `fanIn` books that predict
 * it best, the structure taken from the teacher) plus, when hidden > 0, a narrow MLP path for what the
 * item-to-item path cannot hold (taste beyond neighbours). Logits are the sum of both paths.
 */
export function sparseStudent(items: number, fanIn: number, hidden: number, seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [items], name: 'history' });
  const wide = new SparseFanIn({ units: items, fanIn, name: 'neighbours' }).apply(
    input,
  ) as tfl.SymbolicTensor;
  if (hidden <= 0) return tfl.model({ inputs: input, outputs: wide, name: `sparse-${fanIn}` });
  const h = tfl.layers
    .dense({
      units: hidden,
      activation: 'tanh',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      name: 'encode',
    })
    .apply(input) as tfl.SymbolicTensor;
  const deep = tfl.layers
    .dense({ units: items, kernelInitializer: tfl.initializers.zeros(), name: 'decode' })
    .apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.add({ name: 'logits' }).apply([wide, deep]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: `sparse-${fanIn}-mlp-${hidden}` });
}

/** Learned numbers of a model (the SparseFanIn sources are chosen, not learned, and not counted). */
export function countParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => (a ?? 1) * (b ?? 1), 1)!, 0);
}
