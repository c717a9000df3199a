import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import {
  easeScorer,
  fitEase,
  MAX_EASE_ITEMS,
  prunedEaseScorer,
  weightsFromInverse,
} from '../../../trainer/baselines/ease.js';
import { BASELINES, baselineNames } from '../../../trainer/baselines/registry.js';
import { itemCount } from '../../../trainer/data/interactions.js';
import { gaussJordanInverse, interactionsFromRows, maxAbsDiff, randomRows } from '../../helpers/matrices.js';

const N_ITEMS = 23;
const LAMBDA = 5;
const rows = randomRows(60, N_ITEMS, 0.25, 17);
const data = interactionsFromRows(rows, N_ITEMS);
const train = Int32Array.from({ length: 50 }, (_, u) => u);

/** EASE by the book: a dense Gram matrix of the training rows, Gauss-Jordan inverse, B = I - P/diag(P). */
function referenceWeights(): Float64Array {
  const n = N_ITEMS;
  const g = new Float64Array(n * n);
  for (const u of train) for (const i of rows[u]) for (const j of rows[u]) g[i * n + j] += 1;
  for (let i = 0; i < n; i++) g[i * n + i] += LAMBDA;
  const p = gaussJordanInverse(g, n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) b[i * n + j] = (i === j ? 1 : 0) - p[i * n + j] / p[j * n + j];
  return b;
}

const reference = referenceWeights();

t.test('B = I - P diag(1/diag P) by hand, with a zero diagonal', async (t) => {
  const p = Float64Array.from([2, -1, -1, 4]);
  t.same(Array.from(weightsFromInverse(p, 2, new Float32Array(4))), [0, 0.25, 0.5, 0]);
  const inPlace = Float32Array.from([2, -1, -1, 4]);
  t.equal(weightsFromInverse(inPlace, 2, inPlace), inPlace, 'may write over P');
  t.same(Array.from(inPlace), [0, 0.25, 0.5, 0]);
});

t.test('both solvers match a direct dense solve, diagonal exactly zero', async (t) => {
  for (const solver of ['js', 'wasm'] as const) {
    const model = await fitEase(data, train, { lambda: LAMBDA, solver });
    t.equal(model.source, solver);
    t.equal(model.n, N_ITEMS);
    t.ok(maxAbsDiff(model.weights, reference) < 1e-5, `${solver} weights`);
    const diagonal = Array.from({ length: N_ITEMS }, (_, i) => model.weights[i * N_ITEMS + i]);
    t.same(diagonal, new Array(N_ITEMS).fill(0), `${solver} diagonal`);
  }
});

t.test('auto solves with wasm', async (t) => {
  const seen: number[] = [];
  const model = await fitEase(data, train, { lambda: LAMBDA, onProgress: (d) => seen.push(d) });
  t.equal(model.source, 'wasm');
  t.equal(seen.at(-1), N_ITEMS);
});

t.test('bad lambda and too many items are refused', async (t) => {
  await t.rejects(fitEase(data, train, { lambda: 0 }), { code: 'BAD_ARGUMENT' });
  await t.rejects(fitEase(data, train, { lambda: Number.NaN }), { code: 'BAD_ARGUMENT' });
  const huge = { ...data, itemIds: new Int32Array(MAX_EASE_ITEMS + 1) };
  await t.rejects(fitEase(huge, train, { lambda: 1 }), { code: 'MODEL_TOO_LARGE' });
});

t.test('the scorers: dense sums rows of B, pruned keeps 16 weights per row', async (t) => {
  const model = await fitEase(data, train, { lambda: LAMBDA, solver: 'js' });
  const dense = easeScorer(model);
  t.equal(dense.name, 'ease');
  t.equal(dense.params, N_ITEMS * N_ITEMS);
  const out = new Float32Array(N_ITEMS);
  await dense.score([Int32Array.from([2, 5])], out);
  const expected = Array.from(
    { length: N_ITEMS },
    (_, j) => reference[2 * N_ITEMS + j] + reference[5 * N_ITEMS + j],
  );
  t.ok(maxAbsDiff(out, expected) < 1e-5);
  const pruned = prunedEaseScorer(model, 16);
  t.equal(pruned.name, 'ease-top16');
  t.ok(pruned.params <= 16 * N_ITEMS && pruned.params > 15 * N_ITEMS, `${pruned.params} weights`);
});

t.test('the registry knows ease and ease-top16, and they share one fit', async (t) => {
  t.same(baselineNames('pop, itemknn,ease,ease-top16'), ['pop', 'itemknn', 'ease', 'ease-top16']);
  const log = createMemoryLogger();
  const input = {
    reads: data,
    trainUsers: train,
    knnNeighbours: 0,
    easeLambda: LAMBDA,
    log,
    cacheDir: t.testdir({}),
  };
  const ease = await BASELINES.ease(input);
  t.equal(ease.params, itemCount(data) ** 2);
  const top = await BASELINES['ease-top16'](input);
  t.equal(top.name, 'ease-top16');
  t.equal(log.lines.filter((l) => l.msg === 'EASE solved').length, 1, 'solved once for both');
  // A second evaluation (another input) reads the disk cache instead of solving again.
  await BASELINES.ease({ ...input });
  t.ok(
    log.lines.some((l) => l.msg === 'EASE weights read from cache'),
    'the next evaluation read the cache',
  );
});
