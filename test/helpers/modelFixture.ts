import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BookEntry } from '../../common/model/catalogue.js';
import { DEFAULT_ENCODING, EVENT_KINDS, type HistoryEvent } from '../../common/model/encoding.js';
import { SparseFanIn } from '../../common/model/sparseFanIn.js';
import { mulberry32, type Rng } from '../../trainer/random.js';

/**
 * A student-shaped model for the package tests: history [n] -> SparseFanIn(n, fanIn) added to
 * Dense(hidden, tanh) -> Dense(n), with random (seeded) values in every weight, biases included, so
 * quantisation has something to lose. hidden 0: the sparse layer alone, the shipped student's topology
 * (which the JS engine runs without tfjs).
 */
export function fixtureModel(n: number, fanIn: number, hidden: number, seed: number): tfl.LayersModel {
  const rng = mulberry32(seed);
  const input = tfl.input({ shape: [n], name: 'history' });
  const sparse = new SparseFanIn({ units: n, fanIn, name: 'neighbours' });
  const wide = sparse.apply(input) as tfl.SymbolicTensor;
  const model = hidden === 0 ? tfl.model({ inputs: input, outputs: wide, name: 'fixture' }) : withDeepPath();
  const values = tf.tensor2d(
    Float32Array.from({ length: n * fanIn }, () => rng() * 2 - 1),
    [n, fanIn],
  );
  const sources = tf.tensor2d(
    Float32Array.from({ length: n * fanIn }, () => Math.floor(rng() * n)),
    [n, fanIn],
  );
  sparse.setWeights([values, sources]);
  tf.dispose([values, sources]);
  return model;

  function withDeepPath(): tfl.LayersModel {
    const uniform = (s: number) => tfl.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: s });
    const h = tfl.layers
      .dense({
        units: hidden,
        activation: 'tanh',
        name: 'encode',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
        biasInitializer: uniform(seed + 1),
      })
      .apply(input) as tfl.SymbolicTensor;
    const deep = tfl.layers
      .dense({
        units: n,
        name: 'decode',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
        biasInitializer: uniform(seed + 3),
      })
      .apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.add({ name: 'logits' }).apply([wide, deep]) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out, name: 'fixture' });
  }
}

export function fixtureCatalogue(n: number): BookEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    id: 1000 + i,
    title: `Book ${i}: "a title, with punctuation"`,
    authors: `Author ${i % 97}, Co-Author ${i % 13}`,
    year: i % 11 === 0 ? null : 1900 + (i % 120),
    language: i % 3 === 0 ? 'eng' : 'en-US',
  }));
}

export function fixtureEncoding(n: number) {
  return { ...DEFAULT_ENCODING, eventWeights: { ...DEFAULT_ENCODING.eventWeights }, items: n };
}

/** Random listener histories of 3-30 events over the last year, seeded. */
export function randomHistories(count: number, n: number, seed: number): HistoryEvent[][] {
  const rng: Rng = mulberry32(seed);
  const now = Date.UTC(2026, 0, 1);
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 + Math.floor(rng() * 28) }, () => ({
      index: Math.floor(rng() * n),
      kind: EVENT_KINDS[Math.floor(rng() * EVENT_KINDS.length)],
      at: new Date(now - Math.floor(rng() * 365 * 86_400_000)),
    })),
  );
}

/** Indices of the k highest scores of row r (ties: lower index first). */
export function topK(scores: Float32Array, items: number, row: number, k: number): number[] {
  const base = row * items;
  return Array.from({ length: items }, (_, i) => i)
    .sort((a, b) => scores[base + b] - scores[base + a] || a - b)
    .slice(0, k);
}
