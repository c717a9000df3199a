import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import t, { type Test } from 'tap';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { type OpenModel, openModel } from '../../../common/inference/openModel.js';
import { type RankOptions, rank } from '../../../common/inference/ranking.js';
import { useBackend } from '../../../common/model/backend.js';
import type { BookEntry } from '../../../common/model/catalogue.js';
import { writePackage } from '../../../common/model/modelPackage.js';
import type { Quantization } from '../../../common/model/quantize.js';
import { SparseFanIn } from '../../../common/model/sparseFanIn.js';
import { tfjsEngineLoader } from '../../../common/model/tfjsEngine.js';
import { loadCatalogue } from '../../../trainer/data/books.js';
import { mulberry32 } from '../../../trainer/random.js';
import { fixtureCatalogue, fixtureEncoding, fixtureModel } from '../../helpers/modelFixture.js';
import { parts } from '../../helpers/packageFixture.js';
import { realDataDir } from '../../helpers/realData.js';
import { denseOnly, randomExclude, randomHistory } from '../../helpers/sparsePath.js';

/**
 * The sparse path (only the books a history reaches are scored and ordered) against the dense path
 * (every book scored, the whole catalogue ranked) on real packages: the same books in the same order
 * with the same float32 scores, reason and all, for many random histories, exclusions, diversity
 * settings and list lengths, and for a constructed case of ties, zero sums and negative scores.
 */
t.before(() => useBackend('cpu'));

const NOW = Date.UTC(2026, 0, 1);

/** Compares both paths over random histories of each size; returns what the answers exercised. */
function compare(t: Test, model: OpenModel, seed: number, perSize: number) {
  t.equal(model.engine.kind, 'sparse-js');
  t.ok(model.engine.scoreSparse, 'the JS engine has the sparse path');
  const dense = denseOnly(model);
  // The same model with recency decay and a short history cap: 40-book histories lose some books.
  const encoding = { ...model.manifest.encoding, recencyHalfLifeDays: 30, maxHistory: 20 };
  const decayed = { ...model, manifest: { ...model.manifest, encoding } };
  const pairs: [string, OpenModel, OpenModel][] = [
    ['package encoding', model, dense],
    ['decay and maxHistory 20', decayed, denseOnly(decayed)],
  ];
  const rng = mulberry32(seed);
  const seen = { answers: 0, fillUp: 0, negative: 0, fallback: 0, short: 0 };
  for (const [what, sparse, reference] of pairs) {
    for (const size of [1, 3, 5, 40]) {
      let mismatches = 0;
      for (let k = 0; k < perSize; k++) {
        const history = randomHistory(rng, model, size, NOW);
        const options: RankOptions = {
          count: [1, 5, 10, 30][Math.floor(rng() * 4)],
          maxPerGroup: [1, 2, 1000][Math.floor(rng() * 3)],
          exclude: randomExclude(rng, model),
          now: new Date(NOW),
        };
        const got = rank(sparse, history, options);
        const want = rank(reference, history, options);
        if (JSON.stringify(got) !== JSON.stringify(want) || !sameScores(got.books, want.books)) {
          if (mismatches++ === 0) t.same(got, want, `${what}, ${size} books: ${JSON.stringify(options)}`);
        }
        seen.answers++;
        if (got.source === 'fallback') seen.fallback++;
        if (got.books.some((b) => b.score === 0)) seen.fillUp++;
        if (got.books.some((b) => b.score !== null && b.score < 0)) seen.negative++;
        if (got.books.length < options.count) seen.short++;
      }
      t.equal(mismatches, 0, `${what}, ${size}-book histories: ${perSize} rankings identical`);
    }
  }
  return seen;
}

/** Scores compared as float32 values, -0 and 0 told apart (JSON would not). */
function sameScores(a: { score: number | null }[], b: { score: number | null }[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x.score, b[i].score));
}

t.test('the fixture package (60 books, fan-in 4, uint8): both paths rank alike', async (t) => {
  const dir = join(t.testdir(), 'pkg');
  const p = parts('m', 5, 0);
  await writePackage(dir, p);
  p.model.dispose();
  const model = await openModel(nodePackageSource(dir));
  const seen = compare(t, model, 11, 150);
  // What the comparison covered (random weights in [-1, 1]: negatives; 4 targets a book: fill-up).
  t.ok(seen.fillUp > 0, `fill-up with books no source reaches (${seen.fillUp} of ${seen.answers})`);
  t.ok(seen.negative > 0, `negative scores ranked after the zeros (${seen.negative})`);
  t.ok(seen.fallback > 0, `histories of skips only: the fallback list (${seen.fallback})`);
  t.ok(seen.short > 0, `lists the diversity rule and the exclusions kept short (${seen.short})`);
  // Every book offered, the negative ones last: the whole order, not only its head.
  const everything = rank(model, [{ bookId: p.catalogue[7].id, kind: 'finished', at: NOW }], {
    count: 60,
    maxPerGroup: 1000,
  });
  t.equal(everything.books.length, 59, 'the whole catalogue but the book read');
  t.same(
    everything,
    rank(denseOnly(model), [{ bookId: p.catalogue[7].id, kind: 'finished', at: NOW }], {
      count: 60,
      maxPerGroup: 1000,
    }),
  );
});

t.test('a package on the real goodbooks titles (3,000 books, fan-in 16, float16)', async (t) => {
  const data = realDataDir(t);
  if (!data) return;
  const { books } = await loadCatalogue(join(data, 'books.csv'));
  const catalogue: BookEntry[] = books.slice(0, 3000).map((b) => ({
    id: b.id,
    title: b.title,
    authors: b.authors,
    year: b.year ?? null,
    language: b.language ?? '',
  }));
  const dir = join(t.testdir(), 'pkg');
  const model = fixtureModel(catalogue.length, 16, 0, 9);
  await writePackage(dir, {
    modelId: 'real-titles',
    model,
    catalogue,
    encoding: fixtureEncoding(catalogue.length),
    fallback: catalogue.slice(0, 10).map((b) => b.id),
    quantization: 'float16',
  });
  model.dispose();
  const opened = await openModel(nodePackageSource(dir));
  const seen = compare(t, opened, 23, 60);
  // A list far longer than one pass of the bounded heap (32 books): the passes after the first.
  const history = catalogue
    .slice(100, 140)
    .map((b, k) => ({ bookId: b.id, kind: 'liked' as const, at: NOW - k }));
  const long = { count: 200, maxPerGroup: 1000, now: new Date(NOW) };
  const got = rank(opened, history, long);
  t.equal(got.books.length, 200);
  t.same(got, rank(denseOnly(opened), history, long), 'a 200-book list: the same');
  t.ok(
    seen.answers > 0 && seen.fallback < seen.answers,
    `${seen.answers - seen.fallback} model answers compared`,
  );
});

/**
 * 12 books, fan-in 2. Book 0 feeds 2 (0.75), 1, 3, 5 and 8 (0.5 each: a four-way tie), 7 (weight 0: a
 * reached book whose score is 0) and 9 and 10 (-0.25: a tie below zero); every other slot reads book 11.
 */
async function tieModel(dir: string): Promise<OpenModel> {
  const n = 12;
  const fed: Record<number, number> = { 1: 0.5, 2: 0.75, 3: 0.5, 5: 0.5, 7: 0, 8: 0.5, 9: -0.25, 10: -0.25 };
  const sources: number[] = [];
  const weights: number[] = [];
  for (let j = 0; j < n; j++) {
    sources.push(j in fed ? 0 : 11, 11);
    weights.push(j in fed ? fed[j] : 0.3, 0.1);
  }
  const input = tfl.input({ shape: [n], name: 'history' });
  const sparse = new SparseFanIn({ units: n, fanIn: 2, name: 'neighbours' });
  const model = tfl.model({ inputs: input, outputs: sparse.apply(input) as tfl.SymbolicTensor });
  const values = [tf.tensor2d(weights, [n, 2]), tf.tensor2d(sources, [n, 2])];
  sparse.setWeights(values);
  tf.dispose(values);
  const catalogue = fixtureCatalogue(n);
  const quantization: Quantization = 'none';
  await writePackage(dir, {
    modelId: 'ties',
    model,
    catalogue,
    encoding: fixtureEncoding(n),
    fallback: [catalogue[0].id],
    quantization,
  });
  model.dispose();
  return openModel(nodePackageSource(dir));
}

t.test('ties: equal scores go to the lower index, reached zeros sit among the unreached', async (t) => {
  const model = await tieModel(join(t.testdir(), 'ties'));
  const id = (i: number) => model.catalogue[i].id;
  const history = [{ bookId: id(0), kind: 'finished' as const, at: NOW }];
  const all = { count: 12, maxPerGroup: 1000 };
  const expected = [2, 1, 3, 5, 8, 4, 6, 7, 11, 9, 10];
  for (const [what, m] of [
    ['sparse', model],
    ['dense', denseOnly(model)],
  ] as const) {
    const rec = rank(m, history, all);
    t.same(
      rec.books.map((b) => model.index.get(b.id)),
      expected,
      `${what}: by score, ties by index, zeros by index, negatives last`,
    );
    t.same(
      rec.books.map((b) => b.score),
      [0.75, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, -0.25, -0.25],
    );
    const cut = rank(m, history, { count: 3, exclude: [id(3)] });
    t.same(
      cut.books.map((b) => model.index.get(b.id)),
      [2, 1, 5],
      `${what}: an excluded book leaves the tie`,
    );
  }
  t.same(rank(model, history, all), rank(denseOnly(model), history, all));
});

t.test('a model only tfjs runs keeps the dense path and ranks as before', async (t) => {
  const dir = join(t.testdir(), 'deep');
  const p = parts('m', 3, 8);
  await writePackage(dir, p);
  p.model.dispose();
  const model = await openModel(nodePackageSource(dir), { loadOther: tfjsEngineLoader({ backend: 'cpu' }) });
  t.equal(model.engine.scoreSparse, undefined, 'no sparse path in the tfjs engine');
  const rec = rank(model, [{ bookId: p.catalogue[4].id, kind: 'finished', at: NOW }], { count: 5 });
  t.equal(rec.source, 'model');
  t.equal(rec.books.length, 5);
  model.engine.dispose();
});
