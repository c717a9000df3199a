import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { readPackage, writePackage } from '../common/model/modelPackage.js';
import { PACKAGE_MANIFEST_FILE } from '../common/model/packageManifest.js';
import { logProgress } from '../common/progress.js';
import { exportStudent, packageParts } from '../trainer/distill/exportStudent.js';
import { layersScorer } from '../trainer/distill/layersTrainable.js';
import type { Prepared, Profile } from '../trainer/distill/prepare.js';
import { trainShippedStudent } from '../trainer/distill/shippedStudent.js';
import { trainConfig } from '../trainer/distill/trainConfig.js';
import { trainStudent } from '../trainer/distill/trainModels.js';
import { evaluateScorer } from '../trainer/eval/evaluate.js';
import type { HeldOutUser } from '../trainer/split.js';
import { writeScrambledPackage } from './brokenModel.js';

/**
 * The three model packages the scenario rolls out, and their offline quality on the same held-out
 * readers the fleet plays:
 *
 * - better: the distilled sparse student (`student`), what `bookrec train` ships;
 * - worse: the MLP student trained without the teacher (`mlp-nokd`). Not `student-nokd`: its offline
 *   NDCG@10 is within 0.0003 of the student's (full profile 0.2733 vs 0.2732), a difference no online
 *   test with a few hundred readers can see, so "the better one wins online" would be a coin toss. The
 *   MLP is a real trained student (the architecture the first brief named) and clearly worse offline;
 * - broken: the better package with its output order scrambled (brokenModel.ts): valid, signed,
 *   self-tested, useless.
 *
 * Packages are built once into <outDir>/packages/ and reused by later runs with the same data,
 * profile and seed (the teacher and EASE come from the shared cache, as for `bookrec train`).
 */
export type ModelRole = 'worse' | 'better' | 'broken';

export interface SimModel {
  role: ModelRole;
  /** What the model is (student, mlp-nokd, ...). */
  name: string;
  dir: string;
  origin: 'trained' | 'reused' | 'given' | 'derived';
  /** Offline NDCG@10 (full ranking, fold-in excluded) of the package as the devices load it. */
  ndcg10: { allTestReaders: number; simulatedReaders: number };
}

export interface ModelsOptions {
  prep: Prepared;
  profile: Profile;
  seed: number;
  dataDir: string;
  outDir: string;
  cacheDir: string;
  /** The readers the fleet plays (a subset of the test readers). */
  readers: HeldOutUser[];
  given?: Partial<Record<ModelRole, string>>;
  log: Logger;
}

const NAMES: Record<ModelRole, string> = {
  better: 'student',
  worse: 'mlp-nokd',
  broken: 'student-scrambled',
};

export async function simModels(options: ModelsOptions): Promise<Record<ModelRole, SimModel>> {
  const { prep, log } = options;
  const root = join(options.outDir, 'packages');
  const key = { data: resolve(options.dataDir), profile: options.profile.name, seed: options.seed };
  const keyFile = join(root, 'models.json');
  const reusable = await sameKey(keyFile, key);
  const dirs: Record<ModelRole, string> = {
    better: options.given?.better ?? join(root, 'better'),
    worse: options.given?.worse ?? join(root, 'worse'),
    broken: options.given?.broken ?? join(root, 'broken'),
  };
  const origin: Partial<Record<ModelRole, SimModel['origin']>> = {};
  for (const role of ['better', 'worse'] as const) {
    if (options.given?.[role]) origin[role] = 'given';
    else if (reusable && (await exists(join(dirs[role], PACKAGE_MANIFEST_FILE)))) origin[role] = 'reused';
  }
  const toTrain = (['better', 'worse'] as const).filter((r) => origin[r] === undefined);
  if (toTrain.length > 0) {
    await trainPackages(options, toTrain, dirs);
    for (const r of toTrain) origin[r] = 'trained';
    await writeFileAtomic(keyFile, `${JSON.stringify(key, null, 2)}\n`);
  }
  if (options.given?.broken) origin.broken = 'given';
  else {
    // Derived every run from the better package actually used: cheap, and never stale.
    await writeScrambledPackage(dirs.better, dirs.broken, options.seed + 7);
    origin.broken = 'derived';
  }
  const out = {} as Record<ModelRole, SimModel>;
  for (const role of ['worse', 'better', 'broken'] as const) {
    const ndcg10 = await offlineNdcg(dirs[role], prep, options.readers);
    out[role] = { role, name: NAMES[role], dir: dirs[role], origin: origin[role]!, ndcg10 };
    log.info('model', { ...out[role] });
  }
  return out;
}

/** Trains what is missing with the settings `bookrec train` uses by default (same code, same cache). */
async function trainPackages(
  options: ModelsOptions,
  roles: readonly ('better' | 'worse')[],
  dirs: Record<ModelRole, string>,
): Promise<void> {
  const { prep, profile, log } = options;
  const config = trainConfig({ env: {}, argv: ['--seed', String(options.seed)] });
  const kd = { alpha: config.alpha, temperature: config.temperature, seed: options.seed };
  if (roles.includes('better')) {
    // The same chain as `bookrec train`: teacher, support, closed-form refit (trainer/distill/shippedStudent.ts).
    const shipped = await trainShippedStudent({
      prep,
      config: { ...config, cache: options.cacheDir },
      profile,
      temperature: kd.temperature,
      progress: logProgress({ log }),
      log,
    });
    try {
      const scorer = layersScorer('student', shipped.model, prep.items, {
        params: shipped.params,
        bytes: null,
      });
      await exportStudent(
        { model: shipped.model, params: shipped.params, scorer },
        prep,
        dirs.better,
        {
          modelId: 'sim-student',
          metrics: { validationNdcg10: shipped.distilled.twinPoint.validationNdcg10 },
          params: {
            alpha: shipped.distilled.shipped === 'distilled' ? shipped.distilled.distilledPoint.alpha : 1,
            temperature: kd.temperature,
            fanIn: config.fanIn,
            profile: profile.name,
          },
        },
        log,
      );
    } finally {
      shipped.model.dispose();
      shipped.trainedTeacher.teacher.dispose();
    }
  }
  if (roles.includes('worse')) {
    const mlp = await trainStudent(
      { name: 'mlp-nokd', kind: 'mlp', hidden: config.mlpHidden, ...kd, alpha: 1 },
      prep,
      null,
      profile,
      log,
    );
    try {
      // float16: exportStudent's plans name the sparse student's layers, which an MLP does not have.
      await writePackage(
        dirs.worse,
        packageParts(mlp.model, prep, {
          modelId: 'sim-mlp-nokd',
          metrics: { validationNdcg10: mlp.fit.bestValidation },
          params: { hidden: config.mlpHidden, alpha: 1, profile: profile.name },
          quantization: 'float16',
        }),
      );
    } finally {
      mlp.model.dispose();
    }
  }
}

/**
 * NDCG@10 of a package as loaded from disk, on all test readers and on the simulated ones. The package
 * must rank the data's items in the data's order (a package from another profile or data set cannot be
 * compared on these readers, and is refused with the reason).
 */
export async function offlineNdcg(
  dir: string,
  prep: Prepared,
  readers: HeldOutUser[],
): Promise<SimModel['ndcg10']> {
  const pkg = await readPackage(dir);
  try {
    const ids = pkg.catalogue.map((b) => b.id);
    if (ids.length !== prep.items || ids.some((id, i) => id !== prep.catalogue[i].id)) {
      throw new BookrecError(
        'SIM_PACKAGE_MISMATCH',
        `${dir}: its catalogue (${ids.length} books) is not this data's item order (${prep.items} books); ` +
          'give packages trained on the same data and profile (--profile)',
      );
    }
    const scorer = layersScorer(dir, pkg.model, prep.items, { params: 0, bytes: null });
    const all = await evaluateScorer(scorer, prep.split.test, prep.items, { latencySample: 0 });
    const sim = await evaluateScorer(scorer, readers, prep.items, { latencySample: 0 });
    return { allTestReaders: all.metrics['ndcg@10'], simulatedReaders: sim.metrics['ndcg@10'] };
  } finally {
    pkg.model.dispose();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function sameKey(file: string, key: Record<string, unknown>): Promise<boolean> {
  try {
    return JSON.stringify(JSON.parse(await readFile(file, 'utf8'))) === JSON.stringify(key);
  } catch {
    return false;
  }
}
