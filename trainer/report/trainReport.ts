import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile.js';
import type { EpochInfo } from '../distill/fit.js';
import type { ModelResult } from '../eval/evaluate.js';
import { type Results, resultsTable } from '../eval/results.js';
import { lineChart, scatterLogX } from './svgChart.js';

/** report.json of `bookrec train`: the results format of docs/evaluation.md plus the run's details. */
export interface TrainReport extends Results {
  profile: string;
  command: string;
  distillation: {
    alpha: number;
    temperature: number;
    fanIn: number;
    studentHidden: number;
    mlpHidden: number;
    teacherHidden: number[];
    teacherWideScale: number;
  };
  shipped: {
    name: string;
    params: number;
    modelBytes: number;
    packageBytes: number;
    quantization: string;
    top10Agreement: number;
    teacherParamRatio: number;
    ndcgShareOfTeacher: number;
  };
  learningCurves: Record<string, EpochInfo[]>;
  phaseSeconds: Record<string, number>;
}

const byName = (models: ModelResult[], name: string) => models.find((m) => m.name === name);

function budgetLines(r: TrainReport): string[] {
  const s = r.shipped;
  const teacher = byName(r.models, 'teacher');
  return [
    `- Shipped student \`${s.name}\`: ${s.params.toLocaleString('en')} learned weights, ${(s.modelBytes / 1024).toFixed(0)} KiB as exported (${s.quantization}); the package with its catalogue is ${(s.packageBytes / 1024).toFixed(0)} KiB.`,
    `- Teacher: ${teacher ? teacher.params.toLocaleString('en') : '?'} parameters; the student has ${(100 * s.teacherParamRatio).toFixed(2)}% of them (budget: <= 10%), and ${(100 * s.ndcgShareOfTeacher).toFixed(1)}% of its NDCG@10 (target: >= 95%).`,
    `- Reloaded from disk, the package ranks the same top-10 as the trained model for ${(100 * s.top10Agreement).toFixed(1)}% of test users (required: >= 95%).`,
  ];
}

export function reportMarkdown(r: TrainReport): string {
  const d = r.distillation;
  const phases = Object.entries(r.phaseSeconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`);
  return [
    '# bookrec training report',
    '',
    `Made by \`${r.command}\` (profile ${r.profile}, seed ${r.seed}) in ${r.seconds.toFixed(0)} s: ${phases.join(', ')}.`,
    `Split: ${r.split.trainUsers} training users; ${r.split.testUsers} test users with >= 5 reads (metrics below), ${r.split.validationUsers} validation users (early stopping).`,
    '',
    '## Test users, full ranking (docs/evaluation.md)',
    '',
    resultsTable(r),
    '',
    '## Size and budget',
    '',
    ...budgetLines(r),
    '',
    '## Distillation',
    '',
    `- Loss: a * CE(true books) + (1 - a) * T^2 * m * KL(teacher_T || student_T), a = ${d.alpha}, T = ${d.temperature} (chosen by \`bookrec grid\` on validation users).`,
    `- Teacher: wide EASE path (scale ${d.teacherWideScale.toFixed(1)}) + deep path [items-${d.teacherHidden.join('-')}-items].`,
    `- \`student\`: SparseFanIn(fan-in ${d.fanIn})${d.studentHidden > 0 ? ` + MLP path ${d.studentHidden}` : ''}; its structure (which books feed each book) and initial weights come from the teacher's wide path; \`student-nokd\` is the same architecture, structure and start, trained with a = 1; \`student-knn\` is the same architecture with no teacher at all (structure from co-occurrence cosine, weights learned from zero, a = 1).`,
    `- \`mlp-kd\` / \`mlp-nokd\`: the MLP [items-${d.mlpHidden}-items] the brief names, with and without distillation.`,
    '',
    '![quality vs size](quality-vs-size.svg)',
    '',
    '![learning curves](learning-curves.svg)',
    '',
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
