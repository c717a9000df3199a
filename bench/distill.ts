import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';
import { readPackage } from '../common/model/modelPackage.js';
import { fitEase } from '../trainer/baselines/ease.js';
import { layersScorer } from '../trainer/distill/layersTrainable.js';
import { PROFILES, prepare } from '../trainer/distill/prepare.js';
import { obtainTeacher } from '../trainer/distill/teacherCache.js';
import { measureLatency } from '../trainer/eval/evaluate.js';
import type { TrainReport } from '../trainer/report/trainReport.js';

/**
 * Distillation benchmark: batch-1 latency (p50/p99, score + top-10) of the teacher and the shipped
 * student side by side, on the wasm and the cpu backends, plus the package size and the training time
 * per phase of the run that made it. Reads the output of `bookrec train` (BENCH_TRAIN_DIR, default
 * out/full, else out/quick); the EASE weights and the teacher come from the training cache.
 */
export default async function distillBench(print: (text: string) => void): Promise<void> {
  const dir =
    process.env.BENCH_TRAIN_DIR ?? ['out/full', 'out/quick'].find((d) => existsSync(join(d, 'report.json')));
  if (!dir || !existsSync(join(dir, 'report.json'))) {
    print(
      'no training output found: run `bookrec train --data DIR --out out/full` (or --quick --out out/quick) first',
    );
    return;
  }
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as TrainReport;
  print(`training run: ${report.command} (${report.seconds.toFixed(0)} s)`);
  for (const [phase, s] of Object.entries(report.phaseSeconds))
    print(`  phase ${phase.padEnd(14)} ${s.toFixed(1)} s`);
  print(
    `package: model ${report.shipped.modelBytes} bytes (${report.shipped.quantization}), whole package ${report.shipped.packageBytes} bytes`,
  );

  const log = createLogger({ level: 'warn' });
  const dataDir = process.env.BOOKREC_DATA_DIR ?? '../shared/datasets/goodbooks-10k';
  const profile = PROFILES[report.profile as 'full' | 'quick'];
  const prep = await prepare(dataDir, report.seed, profile, log);
  // The training run's own cache (bookrec train keeps it under its --out).
  const cache = join(dir, 'cache');
  const ease = await fitEase(prep.reads, prep.split.trainUsers, { lambda: 100, cacheDir: cache, log });
  const users = prep.split.test;
  print('batch-1 latency, score + top-10, 200 test users (ms):');
  print('| model | backend | p50 | p99 |');
  print('| --- | --- | --- | --- |');
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    const { teacher } = await obtainTeacher(
      cache,
      prep,
      ease.weights,
      { lambda: 100, hidden: report.teacher.hidden, profile, seed: report.seed },
      log,
    );
    const pkg = await readPackage(join(dir, 'package'));
    const student = layersScorer('student', pkg.model, prep.items, { params: 0, bytes: null });
    for (const scorer of [teacher.scorer(), student]) {
      const l = await measureLatency(scorer, users, prep.items, 200);
      print(`| ${scorer.name} | ${backend} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} |`);
    }
    pkg.model.dispose();
    teacher.dispose();
  }
}
