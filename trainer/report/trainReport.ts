import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile.js';
import type { RefitPoint } from '../distill/closedForm.js';
import type { EpochInfo } from '../distill/fit.js';
import type { GateCheck } from '../distill/gates.js';
import { type Results, resultsTable } from '../eval/results.js';
import type { PhaseFigures } from './phases.js';
import { lineChart, scatterLogX } from './svgChart.js';

/** report.json of `bookrec train`: the results format of docs/evaluation.md plus the run's details. */
export interface TrainReport extends Results {
  profile: string;
  command: string;
  /** labelNotes: rows of the labels file that were skipped, or why it was not used (absent: none). */
  data: { books: number; labels: string; interactions: number; labelNotes?: string[] };
  teacher: {
    wide: string;
    lambda: number;
    lambdaChoice?: { lambda: number; validationNdcg10: number }[];
    wideWeights: number;
    hidden: number[];
    wideScale: number;
    calibratedScale: number;
  };
  distillation: {
    route: string;
    /** a and T of the MLP students' loss; T also of the student's soft targets. */
    alpha: number;
    temperature: number;
    chosenBy: string;
    fanIn: number;
    mlpHidden: number;
    refitPoints: RefitPoint[];
    twin: RefitPoint;
    distilled: RefitPoint;
    shippedFrom: string;
  };
  /** The shipped student's start (the teacher's pruned weights) and end, NDCG@10. */
  studentStartEnd: {
    validation: { start: number; end: number };
    test: { start: number; end: number };
    /** Paired bootstrap of end - start over test users. */
    testPaired: { diff: number; ci95: [number, number]; users: number };
  };
  kdComparison: {
    metric: 'ndcg@10';
    student: string;
    twin: string;
    diff: number;
    ci95: [number, number];
    users: number;
    resamples: number;
    seed: number;
  };
  shipped: {
    name: string;
    params: number;
    modelBytes: number;
    maxModelBytes: number;
    packageBytes: number;
    quantization: string;
    top10Agreement: number;
    teacherParamRatio: number;
    ndcgShareOfTeacher: number;
    checks: GateCheck[];
    accepted: boolean;
  };
  learningCurves: Record<string, EpochInfo[]>;
  phaseSeconds: Record<string, number>;
  phases: Record<string, PhaseFigures>;
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '-');
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

function budgetLines(r: TrainReport): string[] {
  const s = r.shipped;
  return [
    `- Shipped student \`${s.name}\` (${r.distillation.shippedFrom}): ${s.params.toLocaleString('en')} learned weights, ${s.modelBytes.toLocaleString('en')} bytes as exported (${s.quantization}; budget ${s.maxModelBytes.toLocaleString('en')}); the package with its catalogue is ${s.packageBytes.toLocaleString('en')} bytes.`,
    `- Teacher: ${r.teacher.wideWeights.toLocaleString('en')} wide weights${r.teacher.hidden.length > 0 ? ` + deep path [items-${r.teacher.hidden.join('-')}-items]` : ''}; the student has ${(100 * s.teacherParamRatio).toFixed(2)}% of its parameters (goal: <= 1%).`,
    '',
    '| check | measured | required | result |',
    '| --- | --- | --- | --- |',
    ...s.checks.map((c) => `| ${c.name} | ${c.measured} | ${c.required} | ${c.ok ? 'ok' : '**FAILED**'} |`),
    '',
    s.accepted
      ? '- All checks passed: the package is in `package/`.'
      : '- **Rejected**: at least one check failed, no package was left behind and the run exited non-zero.',
  ];
}

function distillationLines(r: TrainReport): string[] {
  const d = r.distillation;
  const k = r.kdComparison;
  const se = r.studentStartEnd;
  const verdict =
    k.ci95[0] > 0
      ? 'the soft targets helped: the interval is above zero.'
      : k.ci95[1] < 0
        ? 'the soft targets hurt: the interval is below zero.'
        : 'no measurable effect of the soft targets: the interval contains zero.';
  return [
    `- Route: ${d.route}. The student's support (which ${d.fanIn} books feed each book) is the teacher's largest wide weights per column; it starts from those weights (\`student-start\`) and each book's ${d.fanIn} weights are refitted in closed form (ridge regression over the training users).`,
    `- Start vs end (NDCG@10): validation ${f4(se.validation.start)} -> ${f4(se.validation.end)}, test ${f4(se.test.start)} -> ${f4(se.test.end)} (paired over ${se.testPaired.users} test users: ${signed(se.testPaired.diff)}, 95% interval [${signed(se.testPaired.ci95[0])}, ${signed(se.testPaired.ci95[1])}]: ${se.testPaired.ci95[0] > 0 ? 'the student moved: measurably better than its start' : 'not measurably better than its start'}).`,
    `- \`student-nokd\` (the twin): hard targets only, lambda ${d.twin.lambda} and the ridge's target (${d.twin.shrinkTo === 'start' ? "the start: the teacher's pruned weights" : 'zero'}) chosen on validation users. \`student-kd\`: the blend a * hard + (1 - a) * soft, soft = either the teacher's softmax (T = ${d.temperature}) over each reader's unread books (\`softmax\`) or its wide path's raw scores x B (\`scores\`); the kind and a (here ${d.distilled.soft}, a = ${d.distilled.alpha}) chosen on validation users at the twin's lambda. Shipped: \`${d.shippedFrom}\` (the better on validation).`,
    '',
    '| a | soft targets | lambda | shrinks towards | validation NDCG@10 |',
    '| --- | --- | --- | --- | --- |',
    ...d.refitPoints.map(
      (p) => `| ${p.alpha} | ${p.soft ?? '-'} | ${p.lambda} | ${p.shrinkTo} | ${f4(p.validationNdcg10)} |`,
    ),
    '',
    `- Paired test over ${k.users} test users (${k.resamples} bootstrap resamples, seed ${k.seed}): ${k.student} - ${k.twin} = ${signed(k.diff)} NDCG@10, 95% interval [${signed(k.ci95[0])}, ${signed(k.ci95[1])}]: ${verdict}`,
    `- \`student-knn\`: the same architecture with no teacher at all (support from co-occurrence cosine, the same hard refit).`,
    `- MLP students' loss: a * CE(true books) + (1 - a) * T^2 * m * KL(teacher_T || student_T), a = ${d.alpha}, T = ${d.temperature} (${d.chosenBy})${d.mlpHidden > 0 ? `; \`mlp-kd\` / \`mlp-nokd\`: [items-${d.mlpHidden}-items]` : '; no MLP students in this run (catalogue above the dense limit, or --mlp-hidden 0)'}.`,
  ];
}

function phaseTable(r: TrainReport): string[] {
  return [
    '| phase | seconds | RSS at end MB | peak RSS so far MB |',
    '| --- | --- | --- | --- |',
    ...Object.entries(r.phases).map(
      ([name, p]) => `| ${name} | ${p.seconds.toFixed(1)} | ${p.rssMb} | ${p.peakRssMb} |`,
    ),
  ];
}

/** The data line, and under it what went wrong with the labels file (skipped rows, or not used). */
export function dataLines(d: TrainReport['data']): string[] {
  return [
    `Data: ${d.books.toLocaleString('en')} books, ${d.interactions.toLocaleString('en')} reads; spoken labels from ${d.labels}.`,
    ...(d.labelNotes ?? []).map((note) => `- ${note}`),
  ];
}

export function reportMarkdown(r: TrainReport): string {
  const t = r.teacher;
  return [
    `# bookrec training report: ${r.dataset}`,
    '',
    `Made by \`${r.command}\` (profile ${r.profile}, seed ${r.seed}) in ${r.seconds.toFixed(0)} s.`,
    ...dataLines(r.data),
    `Split: ${r.split.trainUsers} training users; ${r.split.testUsers} test users with >= 5 reads (metrics below), ${r.split.validationUsers} validation users (every choice).`,
    '',
    '## Test users, full ranking (docs/evaluation.md)',
    '',
    resultsTable(r),
    '',
    '## Distillation',
    '',
    `- Teacher: wide path ${t.wide}, lambda ${t.lambda}${t.lambdaChoice ? ` (chosen on validation from ${t.lambdaChoice.map((c) => `${c.lambda}: ${f4(c.validationNdcg10)}`).join(', ')})` : ''}, logit scale ${t.wideScale.toFixed(1)}${t.hidden.length > 0 ? `, deep path [items-${t.hidden.join('-')}-items]` : ', no deep path'}.`,
    ...distillationLines(r),
    '',
    '## Size, budget and checks',
    '',
    ...budgetLines(r),
    '',
    '## Time and memory per phase',
    '',
    ...phaseTable(r),
    '',
    '![quality vs size](quality-vs-size.svg)',
    '',
    ...(Object.keys(r.learningCurves).length > 0 ? ['![learning curves](learning-curves.svg)', ''] : []),
  ].join('\n');
}

export async function writeTrainReport(dir: string, r: TrainReport): Promise<void> {
  await writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(r));
  const points = r.models
    .filter((m) => m.params > 0)
    .map((m) => ({ x: m.params, y: m.metrics['ndcg@10'], label: m.name }));
  await writeFileAtomic(
    join(dir, 'quality-vs-size.svg'),
    scatterLogX('Quality vs model size (test users)', 'parameters (log scale)', 'NDCG@10', points),
  );
  const series = Object.entries(r.learningCurves).map(([name, epochs]) => ({
    name,
    points: epochs.map((e) => ({ x: e.epoch + 1, y: e.validation })),
  }));
  await writeFileAtomic(
    join(dir, 'learning-curves.svg'),
    lineChart('Learning curves', 'epoch', 'validation NDCG@10', series),
  );
}
