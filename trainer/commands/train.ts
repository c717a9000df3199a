import { join } from 'node:path';
import type { Command } from '../../common/command.js';
import { useBackend } from '../../common/model/backend.js';
import { easeScorer, fitEase, prunedEaseScorer } from '../baselines/ease.js';
import { cosineSimilarity, itemKnnScorer } from '../baselines/itemKnn.js';
import { popularityScorer } from '../baselines/popularity.js';
import { exportStudent } from '../distill/exportStudent.js';
import { PROFILES, prepare } from '../distill/prepare.js';
import { fanInFromColumns } from '../distill/structure.js';
import { obtainTeacher } from '../distill/teacherCache.js';
import { numberList, trainCommandSchema, trainConfig } from '../distill/trainConfig.js';
import { trainStudent } from '../distill/trainModels.js';
import { evaluateScorer, type ModelResult } from '../eval/evaluate.js';
import { resultsTable } from '../eval/results.js';
import type { Scorer } from '../eval/scorer.js';
import { type TrainReport, writeTrainReport } from '../report/trainReport.js';

const command: Command = {
  path: ['train'],
  summary: 'train the teacher, distil the student, evaluate everything, export the package and a report',
  usage: '--data DIR --out DIR',
  schema: trainCommandSchema,
  examples: [
    'bookrec train --data ../shared/datasets/goodbooks-10k --quick --out out/quick   # ~1 min',
    'bookrec train --data ../shared/datasets/goodbooks-10k --out out/full --alpha 0.5 --temperature 2',
  ],
  async run(args, ctx) {
    const config = trainConfig({ env: ctx.env, argv: args });
    const base = PROFILES[config.quick ? 'quick' : 'full'];
    const profile = config.studentEpochs > 0 ? { ...base, studentEpochs: config.studentEpochs } : base;
    const log = ctx.log.child('train');
    const started = performance.now();
    const phases: Record<string, number> = {};
    const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const out = await work();
      phases[name] = (performance.now() - t0) / 1000;
      log.info('phase done', { phase: name, seconds: phases[name] });
      return out;
    };

    const prep = await phase('data', () => prepare(config.dataDir, config.seed, profile, log));
    const { split, items } = prep;
    const ease = await phase('ease', () =>
      fitEase(prep.reads, split.trainUsers, { lambda: config.easeLambda, cacheDir: config.cache, log }),
    );
    await useBackend(config.backend, log);

    const teacherHidden = numberList(config.teacherHidden, 'teacherHidden');
    const {
      teacher,
      fit: teacherFit,
      calibratedScale,
    } = await phase('teacher', () =>
      obtainTeacher(
        config.cache,
        prep,
        ease.weights,
        { lambda: config.easeLambda, hidden: teacherHidden, profile, seed: config.seed },
        log,
      ),
    );

    // The shipped student's structure and starting weights: the teacher's wide path, pruned by column
    // and put on the teacher's logit scale.
    const structure = fanInFromColumns(ease.weights, items, config.fanIn);
    structure.weights = structure.weights.map((w) => w * calibratedScale);
    const kd = { alpha: config.alpha, temperature: config.temperature, seed: config.seed };
    const sparse = { kind: 'sparse' as const, hidden: config.studentHidden, structure };
    const mlp = { kind: 'mlp' as const, hidden: config.mlpHidden };
    const student = await phase('student', () =>
      trainStudent({ name: 'student', ...sparse, ...kd }, prep, teacher, profile, log),
    );
    const twin = await phase('student-nokd', () =>
      trainStudent({ name: 'student-nokd', ...sparse, ...kd, alpha: 1 }, prep, null, profile, log),
    );
    // The same architecture with no teacher at all: structure from co-occurrence (ItemKNN's cosine),
    // weights learned from zero on hard labels. Against `student-nokd` it shows what the teacher's choice
    // of structure and starting weights is worth; against `student`, what the soft targets add.
    const knnStructure = fanInFromColumns(
      cosineSimilarity(prep.reads, split.trainUsers),
      items,
      config.fanIn,
    );
    knnStructure.weights.fill(0);
    const knnStudent = await phase('student-knn', () =>
      trainStudent(
        {
          name: 'student-knn',
          ...sparse,
          structure: knnStructure,
          ...kd,
          alpha: 1,
          learningRate: profile.studentLearningRate,
        },
        prep,
        null,
        profile,
        log,
      ),
    );
    const mlpKd = await phase('mlp-kd', () =>
      trainStudent({ name: 'mlp-kd', ...mlp, ...kd }, prep, teacher, profile, log),
    );
    const mlpNoKd = await phase('mlp-nokd', () =>
      trainStudent({ name: 'mlp-nokd', ...mlp, ...kd, alpha: 1 }, prep, null, profile, log),
    );

    const exported = await phase('export', () =>
      exportStudent(
        student,
        prep,
        join(config.out, 'package'),
        {
          modelId: `goodbooks-student-${new Date().toISOString().slice(0, 10)}`,
          metrics: { validationNdcg10: student.fit.bestValidation },
          params: {
            alpha: config.alpha,
            temperature: config.temperature,
            fanIn: config.fanIn,
            profile: profile.name,
          },
        },
        log,
      ),
    );

    // Every model on the same test users in one process: quality and batch-1 latency side by side.
    const scorers: Scorer[] = [
      popularityScorer(prep.reads, split.trainUsers),
      itemKnnScorer(prep.reads, split.trainUsers),
      easeScorer(ease),
      prunedEaseScorer(ease, config.fanIn, `ease-top${config.fanIn}`),
      teacher.scorer(),
      { ...student.scorer, bytes: exported.modelBytes },
      twin.scorer,
      knnStudent.scorer,
      mlpKd.scorer,
      mlpNoKd.scorer,
    ];
    const models: ModelResult[] = await phase('evaluate', async () => {
      const out: ModelResult[] = [];
      for (const s of scorers) {
        out.push(await evaluateScorer(s, split.test, items));
        log.info('evaluated', { model: s.name, ndcg10: out[out.length - 1].metrics['ndcg@10'] });
      }
      return out;
    });

    const teacherResult = models.find((m) => m.name === 'teacher')!;
    const studentResult = models.find((m) => m.name === 'student')!;
    const report: TrainReport = {
      dataset: 'goodbooks-10k',
      seed: config.seed,
      split: {
        trainUsers: split.trainUsers.length,
        validationUsers: split.validation.length,
        testUsers: split.test.length,
      },
      models,
      seconds: (performance.now() - started) / 1000,
      profile: profile.name,
      command: `bookrec train ${args.join(' ')}`.trim(),
      distillation: {
        alpha: config.alpha,
        temperature: config.temperature,
        fanIn: config.fanIn,
        studentHidden: config.studentHidden,
        mlpHidden: config.mlpHidden,
        teacherHidden,
        teacherWideScale: teacher.scale.dataSync()[0],
      },
      shipped: {
        name: 'student',
        params: student.params,
        modelBytes: exported.modelBytes,
        packageBytes: exported.bytes,
        quantization: exported.quantization,
        top10Agreement: exported.top10Agreement,
        teacherParamRatio: student.params / teacher.params,
        ndcgShareOfTeacher: studentResult.metrics['ndcg@10'] / teacherResult.metrics['ndcg@10'],
      },
      learningCurves: {
        teacher: teacherFit.history,
        student: student.fit.history,
        'student-nokd': twin.fit.history,
        'student-knn': knnStudent.fit.history,
        'mlp-kd': mlpKd.fit.history,
        'mlp-nokd': mlpNoKd.fit.history,
      },
      phaseSeconds: phases,
    };
    await writeTrainReport(config.out, report);
    for (const m of [student, twin, knnStudent, mlpKd, mlpNoKd]) m.model.dispose();
    teacher.dispose();
    ctx.print(resultsTable(report));
    ctx.print(
      `wrote ${join(config.out, 'report.md')}, report.json, charts and the package in ${exported.dir}`,
    );
  },
};

export default command;
