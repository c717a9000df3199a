import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile.js';
import type { Command } from '../../common/command.js';
import { useBackend } from '../../common/model/backend.js';
import { fitEase } from '../baselines/ease.js';
import { PROFILES, prepare } from '../distill/prepare.js';
import { fanInFromColumns } from '../distill/structure.js';
import { obtainTeacher } from '../distill/teacherCache.js';
import { numberList, teacherWidths, trainConfig, trainSchema } from '../distill/trainConfig.js';
import { type StudentSpec, trainStudent } from '../distill/trainModels.js';
import { evaluateScorer } from '../eval/evaluate.js';
import { gridHeatmap } from '../report/heatmap.js';

interface Spread {
  mean: number;
  min: number;
  max: number;
  values: number[];
}

interface GridPoint {
  alpha: number;
  temperature: number;
  validationNdcg10: Spread;
  testNdcg10: Spread;
  seconds: number;
}

const spread = (values: number[]): Spread => ({
  mean: values.reduce((a, b) => a + b, 0) / values.length,
  min: Math.min(...values),
  max: Math.max(...values),
  values,
});

/**
 * Grid search over the distillation's a and T for one student, on validation users (all of them), each
 * point trained with every seed; a = 1 (no distillation) is always included as the reference. Test
 * NDCG@10 is reported beside it for the seed comparison, never used to choose.
 */
const command: Command = {
  path: ['grid'],
  summary: 'grid search over the distillation weight a and temperature T (validation users)',
  usage: '--data DIR --out DIR',
  schema: trainSchema,
  examples: [
    'bookrec grid --data ../shared/datasets/goodbooks-10k --student sparse --alphas 0.25,0.5,0.75 --temperatures 1,2 --out out/grid',
    'bookrec grid --data ../shared/datasets/goodbooks-10k --student mlp --alphas 0.5 --temperatures 1 --seeds 1,2,3 --out out/grid',
  ],
  async run(args, ctx) {
    const config = trainConfig({ env: ctx.env, argv: args });
    const base = PROFILES[config.quick ? 'quick' : 'full'];
    const profile = config.studentEpochs > 0 ? { ...base, studentEpochs: config.studentEpochs } : base;
    const log = ctx.log.child('grid');
    const started = performance.now();
    const alphas = numberList(config.grid.alphas, 'grid.alphas');
    const temperatures = numberList(config.grid.temperatures, 'grid.temperatures');
    const seeds = numberList(config.grid.seeds, 'grid.seeds');
    const kind = config.grid.student;

    const prep = await prepare(config.dataDir, config.seed, profile, log);
    const ease = await fitEase(prep.reads, prep.split.trainUsers, {
      lambda: config.easeLambda,
      cacheDir: config.cache,
      log,
    });
    await useBackend(config.backend, log);
    const hidden = teacherWidths(config.teacherHidden, prep.items, config.easeDenseMax);
    const { teacher, calibratedScale } = await obtainTeacher(
      config.cache,
      prep,
      ease.weights,
      { lambda: config.easeLambda, hidden, profile, seed: config.seed },
      log,
    );
    const structure = fanInFromColumns(ease.weights, prep.items, config.fanIn);
    structure.weights = structure.weights.map((w) => w * calibratedScale);

    const settings: [number, number][] = [[1, 1]];
    for (const a of alphas) for (const t of temperatures) if (a < 1) settings.push([a, t]);
    const points: GridPoint[] = [];
    for (const [alpha, temperature] of settings) {
      const t0 = performance.now();
      const validation: number[] = [];
      const test: number[] = [];
      for (const seed of seeds) {
        const spec: StudentSpec =
          kind === 'mlp'
            ? { name: 'mlp', kind, hidden: config.mlpHidden, alpha, temperature, seed }
            : { name: 'student', kind, hidden: config.studentHidden, structure, alpha, temperature, seed };
        const trained = await trainStudent(spec, prep, teacher, profile, log);
        validation.push(
          (await evaluateScorer(trained.scorer, prep.split.validation, prep.items, { latencySample: 0 }))
            .metrics['ndcg@10'],
        );
        test.push(
          (await evaluateScorer(trained.scorer, prep.split.test, prep.items, { latencySample: 0 })).metrics[
            'ndcg@10'
          ],
        );
        trained.model.dispose();
      }
      const point = {
        alpha,
        temperature,
        validationNdcg10: spread(validation),
        testNdcg10: spread(test),
        seconds: (performance.now() - t0) / 1000,
      };
      points.push(point);
      log.info('grid point', {
        alpha,
        temperature,
        validation: point.validationNdcg10.mean,
        test: point.testNdcg10.mean,
      });
    }
    teacher.dispose();

    const distilled = points.filter((p) => p.alpha < 1);
    const chosen = distilled.reduce(
      (best, p) => (p.validationNdcg10.mean > best.validationNdcg10.mean ? p : best),
      distilled[0] ?? points[0],
    );
    const result = {
      student: kind,
      profile: profile.name,
      seeds,
      command: `bookrec grid ${args.join(' ')}`.trim(),
      points,
      chosen: { alpha: chosen.alpha, temperature: chosen.temperature },
      seconds: (performance.now() - started) / 1000,
    };
    const fmt = (s: Spread) =>
      s.values.length > 1
        ? `${s.mean.toFixed(4)} [${s.min.toFixed(4)}, ${s.max.toFixed(4)}]`
        : s.mean.toFixed(4);
    const table = [
      `| a | T | validation NDCG@10 | test NDCG@10 | seconds |`,
      '| --- | --- | --- | --- | --- |',
      ...points.map(
        (p) =>
          `| ${p.alpha} | ${p.alpha < 1 ? p.temperature : '-'} | ${fmt(p.validationNdcg10)} | ${fmt(p.testNdcg10)} | ${p.seconds.toFixed(0)} |`,
      ),
    ].join('\n');
    const md = [
      `# Distillation grid: ${kind} student`,
      '',
      `Made by \`${result.command}\` in ${result.seconds.toFixed(0)} s (profile ${profile.name}, seeds ${seeds.join(', ')}; mean [min, max] over seeds).`,
      '',
      table,
      '',
      `Chosen on validation: a = ${chosen.alpha}, T = ${chosen.temperature}.`,
      '',
      `![validation NDCG@10 by a and T](grid-${kind}.svg)`,
      '',
    ].join('\n');
    const heatmap = gridHeatmap(
      `Validation NDCG@10 by a and T (${kind} student)`,
      points.map((p) => ({
        alpha: p.alpha,
        temperature: p.temperature,
        value: p.validationNdcg10.mean,
        min: p.validationNdcg10.min,
        max: p.validationNdcg10.max,
        seeds: p.validationNdcg10.values.length,
      })),
      result.chosen,
    );
    await writeFileAtomic(join(config.out, `grid-${kind}.json`), `${JSON.stringify(result, null, 2)}\n`);
    await writeFileAtomic(join(config.out, `grid-${kind}.svg`), heatmap);
    await writeFileAtomic(join(config.out, `grid-${kind}.md`), md);
    ctx.print(table);
    ctx.print(
      `chosen: a = ${chosen.alpha}, T = ${chosen.temperature}; wrote ${join(config.out, `grid-${kind}.md`)}`,
    );
  },
};

export default command;
