import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BookEntry } from '../common/model/catalogue.js';
import { DEFAULT_ENCODING } from '../common/model/encoding.js';
import { writePackage } from '../common/model/modelPackage.js';
import { SparseFanIn } from '../common/model/sparseFanIn.js';
import { loadCatalogue } from '../trainer/data/books.js';
import { mulberry32 } from '../trainer/random.js';

/**
 * A package shaped like the shipped student (history -> SparseFanIn(N, fanIn 16), float16 neighbour
 * weights as the trainer exports them, N = 10,000 books by default) but with RANDOM weights: the bench
 * measures speed and memory, which depend on the shape, not on what was learnt. The catalogue is the
 * real goodbooks books.csv when the data folder is there, else synthetic titles.
 */
export const BENCH_BOOKS = 10_000;

export async function benchCatalogue(n: number): Promise<{ books: BookEntry[]; real: boolean }> {
  const dir = process.env.BOOKREC_DATA_DIR || resolve('..', 'shared', 'datasets', 'goodbooks-10k');
  if (existsSync(join(dir, 'books.csv'))) {
    const { books } = await loadCatalogue(join(dir, 'books.csv'));
    if (books.length >= n) {
      return {
        real: true,
        books: books.slice(0, n).map((b) => ({
          id: b.id,
          title: b.title,
          authors: b.authors,
          year: b.year ?? null,
          language: b.language ?? '',
        })),
      };
    }
  }
  const books = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    title: `Book ${i + 1} (Series ${i % 500}, #${(i % 7) + 1})`,
    authors: `Author ${i % 3000}`,
    year: 2000,
    language: 'eng',
  }));
  return { books, real: false };
}

export async function writeBenchPackage(dir: string, catalogue: BookEntry[], seed = 7): Promise<void> {
  const n = catalogue.length;
  const rng = mulberry32(seed);
  const input = tfl.input({ shape: [n], name: 'history' });
  const sparse = new SparseFanIn({ units: n, fanIn: 16, name: 'neighbours' });
  const out = sparse.apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'bench-student' });
  const values = tf.tensor2d(
    Float32Array.from({ length: n * 16 }, () => rng() * 2 - 1),
    [n, 16],
  );
  const sources = tf.tensor2d(
    Float32Array.from({ length: n * 16 }, () => Math.floor(rng() * n)),
    [n, 16],
  );
  sparse.setWeights([values, sources]);
  tf.dispose([values, sources]);
  try {
    await writePackage(dir, {
      modelId: 'bench-random-student',
      model,
      catalogue,
      encoding: { ...DEFAULT_ENCODING, eventWeights: { ...DEFAULT_ENCODING.eventWeights }, items: n },
      fallback: catalogue.slice(0, 20).map((b) => b.id),
      // uint16 holds neighbour indices up to 65,535; past that (the 80,000-book bench) they stay float32.
      quantization: {
        default: 'float16',
        byName: n > 65_536 ? { 'neighbours/sources': 'none' } : {},
      },
    });
  } finally {
    model.dispose();
  }
}
