import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '../../common/command.js';
import { writeCard } from '../../common/model/cardFile.js';
import { abortableProgress } from '../abortable.js';
import { easeScorerFromWeights } from '../baselines/ease.js';
import { cosineFromCounts, itemKnnScorer } from '../baselines/itemKnn.js';
import { popularityScorer } from '../baselines/popularity.js';
import { exportStudent } from '../distill/exportStudent.js';
import { rejection, shippedChecks } from '../distill/gates.js';
import { PROFILES, prepare } from '../distill/prepare.js';
import { refitProblem, refitWeights } from '../distill/refit.js';
import { trainShippedStudent } from '../distill/shippedStudent.js';
import { fanInScorer } from '../distill/structure.js';
import { modelByteBudget, trainCommandSchema, trainConfig } from '../distill/trainConfig.js';
import { type TrainedStudent, trainStudent } from '../distill/trainModels.js';
import { supportFromColumns, weightCount } from '../distill/wideWeights.js';
import { evaluateScorer, type ModelResult } from '../eval/evaluate.js';
import { pairedBootstrap } from '../eval/paired.js';
import { resultsTable } from '../eval/results.js';
import type { Scorer } from '../eval/scorer.js';
import { trainingCard } from '../report/evaluationCard.js';
import { readGridChoice } from '../report/gridChoice.js';
import { PhaseClock } from '../report/phases.js';
import { type TrainReport, writeTrainReport } from '../report/trainReport.js';

/** Paired bootstrap resamples of the kdComparison (fixed seed: the interval is reproducible). */
const RESAMPLES = 2000;

const command: Command = {
  path: ['train'],
  summary: 'train the teacher, distil the student, evaluate everything, export the package and a report',
  usage: '--data DIR --out DIR [--quick] [--dataset-name NAME] [--from-grid GRID.json] [--max-items N]',
  schema: trainCommandSchema,
  examples: [
    'bookrec train --data ../shared/datasets/goodbooks-10k --quick --out out/quick   # ~1 min',
    'bookrec train --data ../shared/datasets/amazon-book-82k --out out/amz          # 82,628 books, sparse path',
    'bookrec train --data ../shared/datasets/goodbooks-10k --out out/full --alpha 0.5 --temperature 2',
  ],
  async run(args, ctx) {
    const config = trainConfig({ env: ctx.env, argv: args });
    const base = PROFILES[config.quick ? 'quick' : 'full'];
    const profile = config.studentEpochs > 0 ? { ...base, studentEpochs: config.studentEpochs } : base;
    const log = ctx.log.child('train');
    const progress = abortableProgress(ctx.progress, ctx.signal);
    const clock = new PhaseClock(log);
    const grid = config.fromGrid ? await readGridChoice(config.fromGrid) : null;
    const kd = {
      alpha: grid?.alpha ?? config.alpha,
      temperature: grid?.temperature ?? config.temperature,
      seed: config.seed,
    };
    const chosenBy = grid ? `chosen by bookrec grid (${config.fromGrid})` : 'default';

    const prep = await clock.phase('data', () =>
      prepare(config.dataDir, config.seed, profile, log, {
        maxItems: config.maxItems,
        datasetName: config.datasetName,
      }),
    );
    const { split, items } = prep;
    const shipped = await trainShippedStudent({
      prep,
      config,
      profile,
      temperature: kd.temperature,
      progress,
      log,
      phase: (name, work) => clock.phase(name, work),
    });
    const { counts, wide, distilled, model, params, teacherHidden } = shipped;
    const { teacher, fit: teacherFit, calibratedScale } = shipped.trainedTeacher;

    // The same architecture without a teacher: support from co-occurrence cosine, hard refit.
    const knnStudent = await clock.phase('student-knn', async () => {
      // Cosine is symmetric: its rows are its columns.
      const cosine = cosineFromCounts(counts);
      const structure = supportFromColumns(
        { kind: 'sparse', n: items, rows: cosine, columns: cosine },
        config.fanIn,
      );
      const weights = refitWeights(refitProblem(counts, structure), null, 1, distilled.twinPoint.lambda);
      return { ...structure, weights };
    });

    const mlps: TrainedStudent[] = [];
    if (config.mlpHidden > 0 && items <= config.easeDenseMax) {
      const mlp = { kind: 'mlp' as const, hidden: config.mlpHidden };
      const batches = profile.studentEpochs * Math.ceil(prep.rows.length / profile.batchSize);
      for (const [name, alpha, withTeacher] of [
        ['mlp-kd', kd.alpha, true],
        ['mlp-nokd', 1, false],
      ] as const) {
        mlps.push(
          await clock.phase(name, async () => {
            const bar = progress(`${name} (batches)`, batches);
            let done = 0;
            const trained = await trainStudent(
              { name, ...mlp, ...kd, alpha },
              prep,
              withTeacher ? teacher : null,
              profile,
              log,
              undefined,
              () => bar.update(++done),
            );
            bar.finish();
            return trained;
          }),
        );
      }
    }

    const datasetSlug = prep.dataset.replace(/[^A-Za-z0-9._-]+/g, '-');
    const packageDir = join(config.out, 'package');
    const exported = await clock.phase('export', () =>
      exportStudent(
        // The trained side of the reload check in plain JS: the layer's arithmetic in the same order, and
        // much faster than tfjs over 82k books.
        { model, params, scorer: fanInScorer('student', shipped.structure, items) },
        prep,
        packageDir,
        {
          modelId: `${datasetSlug}-student-${new Date().toISOString().slice(0, 10)}`,
          metrics: {
            validationNdcg10: Math.max(
              distilled.twinPoint.validationNdcg10,
              distilled.distilledPoint.validationNdcg10,
            ),
          },
          params: {
            alpha: distilled.shipped === 'distilled' ? distilled.distilledPoint.alpha : 1,
            lambda: distilled.twinPoint.lambda,
            temperature: kd.temperature,
            fanIn: config.fanIn,
            profile: profile.name,
            dataset: prep.dataset,
          },
        },
        log,
      ),
    );

    // Every model on the same test users in one process: quality and batch-1 latency side by side.
    const perUser: Record<string, number[]> = { 'student-kd': [], 'student-nokd': [], 'student-start': [] };
    const scorers: Scorer[] = [
      popularityScorer(prep.reads, split.trainUsers),
      itemKnnScorer(prep.reads, split.trainUsers, { counts }),
      ...easeScorerFromWeights(wide.weights, config.fanIn),
      teacher.scorer(),
      fanInScorer('student-start', distilled.start, items),
      fanInScorer('student-nokd', distilled.twin, items),
      fanInScorer('student-kd', distilled.distilled, items),
      fanInScorer('student-knn', knnStudent, items),
      ...mlps.map((m) => m.scorer),
    ];
    const models: ModelResult[] = await clock.phase('evaluate', async () => {
      const out: ModelResult[] = [];
      const bar = progress('evaluate (models on test users)', scorers.length);
      for (const s of scorers) {
        const result = await evaluateScorer(s, split.test, items, { perUserNdcg10: perUser[s.name] });
        out.push(result);
        bar.update(out.length);
        log.info('evaluated', { model: s.name, ndcg10: result.metrics['ndcg@10'] });
      }
      bar.finish();
      const shipped = out.find(
        (m) => m.name === (distilled.shipped === 'distilled' ? 'student-kd' : 'student-nokd'),
      )!;
      out.push({ ...shipped, name: 'student', bytes: exported.modelBytes });
      return out;
    });

    const ndcg = (name: string) => models.find((m) => m.name === name)?.metrics['ndcg@10'] ?? Number.NaN;
    const checks = shippedChecks({
      top10Agreement: exported.top10Agreement,
      modelBytes: exported.modelBytes,
      maxModelBytes: modelByteBudget(items, config.maxModelBytes),
      studentNdcg10: ndcg('student'),
      teacherNdcg10: ndcg('teacher'),
    });
    const shippedFrom = distilled.shipped === 'distilled' ? 'student-kd' : 'student-nokd';
    const failed = rejection(checks, packageDir);
    if (failed) await rm(packageDir, { recursive: true, force: true });
    else {
      // The package's own figures (card.json, listed and so signed with it): docs/model-package.md.
      const card = trainingCard({
        dataset: prep.dataset,
        test: split.test,
        perUserNdcg10: perUser[shippedFrom],
        ndcg10: ndcg('student'),
        teacherNdcg10: ndcg('teacher'),
        modelBytes: exported.modelBytes,
        trainedAt: new Date(),
      });
      await writeCard(packageDir, card);
    }

    const comparison = pairedBootstrap(perUser['student-kd'], perUser['student-nokd'], {
      resamples: RESAMPLES,
      seed: config.seed,
    });
    const startToEnd = pairedBootstrap(perUser[shippedFrom], perUser['student-start'], {
      resamples: RESAMPLES,
      seed: config.seed,
    });
    const report: TrainReport = {
      dataset: prep.dataset,
      seed: config.seed,
      split: {
        trainUsers: split.trainUsers.length,
        validationUsers: split.validation.length,
        testUsers: split.test.length,
      },
      models,
      seconds: clock.total(),
      profile: profile.name,
      command: `bookrec train ${args.join(' ')}`.trim(),
      data: {
        books: items,
        labels: prep.labels,
        interactions: prep.reads.indices.length,
        ...(prep.labelNotes.length > 0 ? { labelNotes: prep.labelNotes } : {}),
      },
      teacher: {
        wide:
          wide.weights.kind === 'dense'
            ? 'dense EASE (closed form)'
            : `sparse EASE (${wide.candidates} candidates per book)`,
        lambda: wide.lambda,
        lambdaChoice: wide.lambdaChoice,
        wideWeights: weightCount(wide.weights),
        hidden: teacherHidden,
        wideScale: teacher.scale.dataSync()[0],
        calibratedScale,
      },
      distillation: {
        route: "closed-form refit on the teacher's support",
        alpha: kd.alpha,
        temperature: kd.temperature,
        chosenBy,
        fanIn: config.fanIn,
        mlpHidden: mlps.length > 0 ? config.mlpHidden : 0,
        refitPoints: distilled.points,
        twin: distilled.twinPoint,
        distilled: distilled.distilledPoint,
        shippedFrom: distilled.shipped === 'distilled' ? 'student-kd' : 'student-nokd',
      },
      studentStartEnd: {
        validation: {
          start: distilled.startValidation,
          end: Math.max(distilled.twinPoint.validationNdcg10, distilled.distilledPoint.validationNdcg10),
        },
        test: { start: ndcg('student-start'), end: ndcg('student') },
        testPaired: { diff: startToEnd.diff, ci95: startToEnd.ci95, users: startToEnd.users },
      },
      kdComparison: {
        metric: 'ndcg@10',
        student: 'student-kd',
        twin: 'student-nokd',
        diff: comparison.diff,
        ci95: comparison.ci95,
        users: comparison.users,
        resamples: comparison.resamples,
        seed: config.seed,
      },
      shipped: {
        name: 'student',
        params,
        modelBytes: exported.modelBytes,
        maxModelBytes: modelByteBudget(items, config.maxModelBytes),
        packageBytes: exported.bytes,
        quantization: exported.quantization,
        top10Agreement: exported.top10Agreement,
        teacherParamRatio: params / teacher.params,
        ndcgShareOfTeacher: ndcg('student') / ndcg('teacher'),
        checks,
        accepted: failed === null,
      },
      learningCurves: {
        teacher: teacherFit.history,
        ...Object.fromEntries(mlps.map((m) => [m.spec.name, m.fit.history])),
      },
      phaseSeconds: clock.seconds(),
      phases: clock.phases(),
    };
    await writeTrainReport(config.out, report);
    model.dispose();
    for (const m of mlps) m.model.dispose();
    teacher.dispose();
    ctx.print(resultsTable(report));
    for (const c of checks)
      ctx.print(`${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.measured} (required ${c.required})`);
    if (failed) throw failed;
    ctx.print(
      `wrote ${join(config.out, 'report.md')}, report.json, charts and the package in ${exported.dir}`,
    );
  },
};

export default command;
