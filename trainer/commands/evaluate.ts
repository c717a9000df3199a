import { basename, join, resolve } from 'node:path';
import type { Command } from '../../common/command.js';
import { buildConfig } from '../../common/config.js';
import { BASELINES, baselineNames } from '../baselines/registry.js';
import { evaluateSchema } from '../config.js';
import { loadReadingData } from '../data/goodbooks.js';
import { itemCount } from '../data/interactions.js';
import { evaluateScorer, type ModelResult } from '../eval/evaluate.js';
import { type Results, resultsTable, writeResults } from '../eval/results.js';
import { splitUsers } from '../split.js';

const command: Command = {
  path: ['evaluate'],
  summary: 'evaluate baselines on held-out users',
  usage: '--data DIR --models pop,itemknn[,ease,ease-top16]',
  schema: evaluateSchema,
  examples: [
    'bookrec evaluate --data ../shared/datasets/goodbooks-10k --models pop,itemknn,ease,ease-top16 --out r.json',
  ],
  async run(args, ctx) {
    const config = buildConfig(evaluateSchema, { env: ctx.env, argv: args });
    const names = baselineNames(config.evaluate.models);
    const started = performance.now();
    const log = ctx.log.child('evaluate');

    const data = await loadReadingData(config.dataDir);
    for (const s of data.summaries) log.info('loaded', { ...s });
    const split = splitUsers(data.reads, config.seed);
    const nItems = itemCount(data.reads);
    log.info('split', {
      train: split.trainUsers.length,
      validation: split.validation.length,
      test: split.test.length,
    });

    const models: ModelResult[] = [];
    const input = {
      reads: data.reads,
      trainUsers: split.trainUsers,
      knnNeighbours: config.evaluate.knnNeighbours,
      easeLambda: config.evaluate.easeLambda,
      easeCandidates: config.evaluate.easeCandidates,
      log,
      cacheDir: join(config.outDir, 'cache'),
    };
    for (const name of names) {
      const fitStart = performance.now();
      const scorer = await BASELINES[name](input);
      log.info('fitted', { model: name, seconds: (performance.now() - fitStart) / 1000 });
      const progress = ctx.progress(`evaluate ${name}`, split.test.length);
      const result = await evaluateScorer(scorer, split.test, nItems, {
        onProgress: (done) => progress.update(done),
      });
      progress.finish();
      models.push(result);
    }

    const results: Results = {
      dataset: config.evaluate.datasetName || basename(resolve(config.dataDir)),
      seed: config.seed,
      split: {
        trainUsers: split.trainUsers.length,
        validationUsers: split.validation.length,
        testUsers: split.test.length,
      },
      models,
      seconds: (performance.now() - started) / 1000,
    };
    ctx.print(resultsTable(results));
    if (config.evaluate.out) {
      await writeResults(config.evaluate.out, results);
      ctx.print(`wrote ${config.evaluate.out}`);
    }
  },
};

export default command;
