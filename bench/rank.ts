import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePackageSource } from '../common/inference/nodePackageSource.js';
import { type OpenModel, openModel } from '../common/inference/openModel.js';
import { type HistoryItem, type Ranking, rank } from '../common/inference/ranking.js';
import { useBackend } from '../common/model/backend.js';
import { encodeHistorySparse } from '../common/model/encoding.js';
import { mulberry32 } from '../trainer/random.js';
import { benchCatalogue, writeBenchPackage } from './agentModel.js';

/**
 * Ranking alone (history -> ranked list of 10, as the server and the speaker ask), per request: the dense
 * path (every book scored, the whole catalogue ranked: the engine before issue 23, still the path of
 * engines without scoreSparse) against the sparse path (only the books the history reaches), for 1-, 5-
 * and 40-book histories on a 10,000-book and an 82,628-book catalogue side by side, and whether both gave
 * the same rankings. The packages are random-weight students of the shipped shape (fan-in 16, float16:
 * bench/agentModel.ts), or trained ones: BENCH_RANK_PACKAGES=dir[,dir...]. History books are drawn
 * uniformly. Goal (issue 23): sparse p50 <= 0.05 ms and p99 <= 0.5 ms for 40 books, on both catalogues.
 */
const SIZES = [10_000, 82_628];
const HISTORY_BOOKS = [1, 5, 40];
const REQUESTS = 2000;
const WARM_UP = 200;
/** Requests timed per path before switching to the other, so machine noise falls on both alike. */
const BLOCK = 100;
const GOAL = { p50: 0.05, p99: 0.5 };

export default async function rankBench(print: (text: string) => void): Promise<void> {
  const given = process.env.BENCH_RANK_PACKAGES?.split(',').filter((d) => d !== '');
  const tmp = await mkdtemp(join(tmpdir(), 'bookrec-rank-'));
  try {
    const dirs = given ?? [];
    if (!given) {
      await useBackend('cpu');
      for (const n of SIZES) {
        const dir = join(tmp, `student-${n}`);
        await writeBenchPackage(dir, (await benchCatalogue(n)).books);
        dirs.push(dir);
      }
    }
    const load = () => `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
    print(`${load()} at the start`);
    print(
      `${given ? 'trained packages' : 'random-weight students (fan-in 16, float16)'}; ${REQUESTS} requests per row, count 10; ms per request (a shared machine: compare the columns, not runs)`,
    );
    print(
      '| books | history | reached | dense p50 | dense p99 | sparse p50 | sparse p99 | p50 ratio | p99 ratio | same rankings |',
    );
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const verdicts: string[] = [];
    for (const dir of dirs) {
      const model = await openModel(nodePackageSource(dir));
      if (!model.engine.scoreSparse) {
        print(`| ${dir}: not a sparse student (engine ${model.engine.kind}), skipped |`);
        continue;
      }
      const n = model.catalogue.length;
      for (const books of HISTORY_BOOKS) {
        const rng = mulberry32(books * 7919 + n);
        const now = Date.now();
        const histories = Array.from({ length: REQUESTS }, () => randomHistory(model, books, now, rng));
        const r = measure(model, histories);
        const ratio = (a: number, b: number) => `${(a / b).toFixed(0)}x`;
        print(
          `| ${n} | ${books} | ${r.reached.toFixed(0)} | ${fmt(r.dense.p50)} | ${fmt(r.dense.p99)} | ${fmt(r.sparse.p50)} | ${fmt(r.sparse.p99)} | ${ratio(r.dense.p50, r.sparse.p50)} | ${ratio(r.dense.p99, r.sparse.p99)} | ${r.same}/${REQUESTS} |`,
        );
        if (books === 40) {
          const met = r.sparse.p50 <= GOAL.p50 && r.sparse.p99 <= GOAL.p99 && r.same === REQUESTS;
          verdicts.push(`${n} books: ${met ? 'met' : 'NOT met'}`);
        }
      }
      model.engine.dispose();
    }
    print(`${load()} at the end`);
    print(
      `goal, 40-book history: sparse p50 <= ${GOAL.p50} ms and p99 <= ${GOAL.p99} ms, same rankings: ${verdicts.join('; ')}`,
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

interface Figures {
  dense: { p50: number; p99: number };
  sparse: { p50: number; p99: number };
  /** Mean books the sparse path scored (reached by the history). */
  reached: number;
  /** Requests both paths ranked alike (books, order, scores). */
  same: number;
}

function measure(model: OpenModel, histories: HistoryItem[][]): Figures {
  const dense = denseOnly(model);
  const options = { count: 10, now: new Date() };
  for (const h of histories.slice(0, WARM_UP)) {
    rank(dense, h, options);
    rank(model, h, options);
  }
  const times = { dense: [] as number[], sparse: [] as number[] };
  const answers = { dense: [] as Ranking[], sparse: [] as Ranking[] };
  for (let start = 0; start < histories.length; start += BLOCK) {
    const block = histories.slice(start, start + BLOCK);
    for (const [path, m] of [
      ['dense', dense],
      ['sparse', model],
    ] as const) {
      for (const h of block) {
        const t0 = performance.now();
        const answer = rank(m, h, options);
        times[path].push(performance.now() - t0);
        answers[path].push(answer);
      }
    }
  }
  let same = 0;
  for (const [i, a] of answers.sparse.entries()) {
    if (JSON.stringify(a) === JSON.stringify(answers.dense[i])) same++;
  }
  let reached = 0;
  for (const h of histories) {
    const events = h.map((e) => ({ index: model.index.get(e.bookId)!, kind: e.kind, at: new Date(e.at) }));
    const { indices, values } = encodeHistorySparse(model.manifest.encoding, events, options.now);
    reached += model.engine.scoreSparse!(indices, values).count;
  }
  return {
    dense: percentiles(times.dense),
    sparse: percentiles(times.sparse),
    reached: reached / histories.length,
    same,
  };
}

/** The dense path of the same model: its engine without scoreSparse, as a tfjs engine is. */
function denseOnly(model: OpenModel): OpenModel {
  const e = model.engine;
  return {
    ...model,
    engine: { kind: e.kind, items: e.items, score: e.score, scoreInto: e.scoreInto, dispose: e.dispose },
  };
}

/** `books` distinct books, each finished some time in the last year. */
function randomHistory(model: OpenModel, books: number, now: number, rng: () => number): HistoryItem[] {
  const picked = new Set<number>();
  while (picked.size < books) picked.add(Math.floor(rng() * model.catalogue.length));
  return [...picked].map((i) => ({
    bookId: model.catalogue[i].id,
    kind: 'finished' as const,
    at: now - Math.floor(rng() * 365 * 86_400_000),
  }));
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { p50: at(0.5), p99: at(0.99) };
}

const fmt = (ms: number) => (ms < 0.1 ? ms.toFixed(4) : ms.toFixed(3));
