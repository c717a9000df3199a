import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { folderIo, loadModel, saveModel } from '../../common/model/folderIo.js';
import { projectVersion } from '../../common/version.js';
import { easeCacheKey } from '../baselines/easeCache.js';
import type { FitResult } from './fit.js';
import type { Prepared, Profile } from './prepare.js';
import { WideDeepTeacher } from './teacher.js';
import { type TrainedTeacher, trainTeacher } from './trainModels.js';
import type { ItemWeights } from './wideWeights.js';

/**
 * The version of the code that makes a cached teacher. The key below sees the data and the settings but
 * not the code: bump this when the teacher's training or what feeds it changes (the deep path's
 * architecture or loss, the batches, the scale's calibration, what is saved), so that an entry made by
 * other code is a miss, never a stale teacher. The project's version is part of the key too, so a
 * release never reuses a teacher made by another one.
 */
export const TEACHER_CACHE_VERSION = 2;

export function teacherCodeVersion(): string {
  return `${TEACHER_CACHE_VERSION}/${projectVersion()}`;
}

/** What a cached teacher depends on besides the data. */
export interface TeacherKey {
  lambda: number;
  hidden: number[];
  profile: Profile;
  seed: number;
  /** What else shapes the wide path (the sparse path's candidates), part of the key when given. */
  wideKey?: string;
  /** The code that made it (default teacherCodeVersion(); tests pass others). */
  codeVersion?: string;
}

/**
 * The trained teacher's deep path and scale, cached on disk so that `bookrec grid` and a second
 * `bookrec train` reuse it (training it takes minutes). The key covers everything that changes it: the
 * training rows, lambda, the deep path's widths, the profile, the seed and the code's version.
 */
export function teacherCacheDir(cacheDir: string, prep: Prepared, key: TeacherKey): string {
  const { lambda, hidden, profile, seed, wideKey } = key;
  const hash = createHash('sha256')
    .update(easeCacheKey(prep.reads, prep.split.trainUsers, lambda))
    .update(
      JSON.stringify({
        hidden,
        seed,
        code: key.codeVersion ?? teacherCodeVersion(),
        ...(wideKey ? { wide: wideKey } : {}),
        // Only what shapes the teacher: students' settings must not invalidate it.
        teacher: [
          profile.teacherEpochs,
          profile.teacherLearningRate,
          profile.batchSize,
          profile.keep,
          profile.patience,
        ],
        data: [profile.maxItems, profile.maxUsers, profile.earlyStopUsers],
      }),
    )
    .digest('hex')
    .slice(0, 16);
  return join(cacheDir, `teacher-${hash}`);
}

interface TeacherMeta {
  scale: number;
  calibratedScale: number;
  fit: FitResult;
}

export async function saveTeacher(dir: string, trained: TrainedTeacher, log: Logger): Promise<void> {
  try {
    if (trained.teacher.deep) await saveModel(trained.teacher.deep, dir, 'none');
    const meta: TeacherMeta = {
      scale: trained.teacher.scale.dataSync()[0],
      calibratedScale: trained.calibratedScale,
      fit: trained.fit,
    };
    // Written last: its presence marks a complete entry.
    await writeFileAtomic(join(dir, 'teacher.json'), JSON.stringify(meta));
  } catch (err) {
    log.warn('could not cache the teacher', { dir, error: errorMessage(err) });
  }
}

/** The cached teacher, or null when there is none or it does not load (then it is trained again). */
export async function loadTeacher(
  dir: string,
  items: number,
  wideWeights: Float32Array | ItemWeights,
  hidden: number[],
  seed: number,
  log: Logger,
): Promise<TrainedTeacher | null> {
  let meta: TeacherMeta;
  try {
    meta = JSON.parse(await readFile(join(dir, 'teacher.json'), 'utf8')) as TeacherMeta;
  } catch {
    return null;
  }
  const teacher = new WideDeepTeacher(items, wideWeights, hidden, seed);
  try {
    if (teacher.deep) {
      const saved = await loadModel(folderIo(dir));
      teacher.deep.setWeights(saved.getWeights());
      saved.dispose();
    }
    tf.tidy(() => teacher.scale.assign(tf.scalar(meta.scale)));
    log.info('teacher read from cache', { dir });
    return { teacher, fit: meta.fit, calibratedScale: meta.calibratedScale };
  } catch (err) {
    log.warn('cached teacher unusable, training again', { dir, error: errorMessage(err) });
    teacher.dispose();
    return null;
  }
}

/** The teacher of this data, profile and seed: from the cache, or trained (and then cached). */
export async function obtainTeacher(
  cacheDir: string,
  prep: Prepared,
  wideWeights: Float32Array | ItemWeights,
  options: TeacherKey & { onBatch?: (done: number, total: number) => void },
  log: Logger,
): Promise<TrainedTeacher> {
  const { hidden, profile, seed } = options;
  const dir = teacherCacheDir(cacheDir, prep, options);
  const cached = await loadTeacher(dir, prep.items, wideWeights, hidden, seed, log);
  if (cached) return cached;
  const trained = await trainTeacher(prep, wideWeights, hidden, profile, seed, log, options.onBatch);
  await saveTeacher(dir, trained, log);
  return trained;
}
