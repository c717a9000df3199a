import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EaseSolver, easeScorer, fitEase, prunedEaseScorer } from '../trainer/baselines/ease.js';
import { itemKnnScorer } from '../trainer/baselines/itemKnn.js';
import { popularityScorer } from '../trainer/baselines/popularity.js';
import { loadReadingData } from '../trainer/data/goodbooks.js';
import { itemCount } from '../trainer/data/interactions.js';
import { evaluateScorer, type ModelResult } from '../trainer/eval/evaluate.js';
import { resultsTable } from '../trainer/eval/results.js';
import type { Scorer } from '../trainer/eval/scorer.js';
import { splitUsers } from '../trainer/split.js';

/**
 * The baselines on the real goodbooks-10k test users: fit time of each model (EASE's solve without the
 * cache, so the figure is the solve), evaluation time, the metric table and the peak RSS.
 * BENCH_EASE_SOLVERS=wasm,js times both EASE solvers (the JS one takes several minutes); the default is
 * the one `evaluate` uses (auto: wasm, JS when wasm does not load).
 */
const SEED = 42;

const here = dirname(fileURLToPath(import.meta.url));

function repoRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const peakMb = () => process.resourceUsage().maxRSS / 1024;

export default async function evaluateBench(print: (text: string) => void): Promise<void> {
  const dataDir =
    process.env.BOOKREC_DATA_DIR || resolve(repoRoot(), '..', 'shared', 'datasets', 'goodbooks-10k');
  if (!existsSync(join(dataDir, 'ratings.csv'))) {
    print(`skipped: no ratings.csv in ${dataDir} (set BOOKREC_DATA_DIR)`);
    return;
  }
  const solvers = (process.env.BENCH_EASE_SOLVERS ?? 'auto').split(',').map((s) => s.trim()) as EaseSolver[];
  const data = await loadReadingData(dataDir);
  const split = splitUsers(data.reads, SEED);
  const n = itemCount(data.reads);
  print(
    `${split.trainUsers.length} training users, ${split.test.length} test users, ${n} books (seed ${SEED})`,
  );

  const results: ModelResult[] = [];
  const run = async (label: string, fit: () => Scorer | Promise<Scorer>) => {
    const t0 = performance.now();
    const scorer = await fit();
    const fitSeconds = (performance.now() - t0) / 1000;
    const result = await evaluateScorer(scorer, split.test, n);
    results.push(result);
    print(
      `${label.padEnd(22)} fit ${fitSeconds.toFixed(1).padStart(6)} s   evaluate ${result.seconds.toFixed(1).padStart(5)} s` +
        `   peak RSS so far ${peakMb().toFixed(0)} MB`,
    );
  };

  await run('pop', () => popularityScorer(data.reads, split.trainUsers));
  await run('itemknn', () => itemKnnScorer(data.reads, split.trainUsers));
  for (const solver of solvers) {
    const t0 = performance.now();
    const model = await fitEase(data.reads, split.trainUsers, { lambda: 100, solver });
    print(`ease solve (${model.source})`.padEnd(22) + ` ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await run(`ease [${model.source}]`, () => easeScorer(model, `ease-${model.source}`));
    await run('ease-top16', () => prunedEaseScorer(model, 16));
  }
  print('');
  print(
    resultsTable({
      dataset: 'goodbooks-10k',
      seed: SEED,
      split: { trainUsers: split.trainUsers.length, validationUsers: 0, testUsers: split.test.length },
      models: results,
      seconds: 0,
    }),
  );
  print(`peak RSS ${peakMb().toFixed(0)} MB`);
}
