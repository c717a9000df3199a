import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Logger } from '../../common/log.js';
import { DEFAULT_ENCODING } from '../../common/model/encoding.js';
import { MODEL_FILE, WEIGHTS_FILE } from '../../common/model/modelJson.js';
import { type PackageParts, readPackage, writePackage } from '../../common/model/modelPackage.js';
import { PACKAGE_MANIFEST_FILE, type PackageManifest } from '../../common/model/packageManifest.js';
import type { Quantization } from '../../common/model/quantize.js';
import type { Scorer } from '../eval/scorer.js';
import { topK } from '../eval/topK.js';
import type { HeldOutUser } from '../split.js';
import { layersScorer } from './layersTrainable.js';
import type { Prepared } from './prepare.js';
import type { TrainedStudent } from './trainModels.js';

/** Quantisation plans tried in order: the smallest whose reloaded top-10 agrees enough is shipped. */
export const QUANTIZATION_PLANS: { name: string; plan: Quantization }[] = [
  { name: 'uint8', plan: 'uint8' },
  // The item-to-item weights decide close rankings; float16 keeps them, uint8 elsewhere.
  {
    name: 'uint8+float16-neighbours',
    plan: { default: 'uint8', byName: { 'neighbours/weights': 'float16' } },
  },
  { name: 'float16', plan: 'float16' },
];

/**
 * The plans for a catalogue of `items` books. Sources are stored as exact uint16 when every index fits;
 * a bigger catalogue keeps them as float32 (exact below 2^24, and what every tfjs reader decodes), so
 * the package format and the device's reader stay as they are.
 */
export function quantizationPlans(items: number): { name: string; plan: Quantization }[] {
  if (items <= 65_536) return QUANTIZATION_PLANS;
  return QUANTIZATION_PLANS.map(({ name, plan }) => {
    const base = typeof plan === 'string' ? { default: plan } : plan;
    return {
      name: `${name}+float32-sources`,
      plan: { default: base.default, byName: { ...(base.byName ?? {}), 'neighbours/sources': 'none' } },
    };
  });
}

/** The reloaded model must rank like the in-memory one for at least this share of users. */
export const MIN_TOP10_AGREEMENT = 0.95;

export interface ExportResult {
  dir: string;
  /** The whole package: model, catalogue, manifest. */
  bytes: number;
  /** The model as exported (model.json + weights): the student's size budget. */
  modelBytes: number;
  quantization: string;
  /** Share of test users whose reloaded top-10 equals the in-memory top-10 (same books, same order). */
  top10Agreement: number;
  manifest: PackageManifest;
}

/** Share of users for whom two scorers give the same top-10 (fold-in excluded). */
export async function top10Agreement(
  a: Scorer,
  b: Scorer,
  users: HeldOutUser[],
  items: number,
): Promise<number> {
  if (users.length === 0) return 1;
  const batch = 256;
  const sa = new Float32Array(batch * items);
  const sb = new Float32Array(batch * items);
  let same = 0;
  for (let start = 0; start < users.length; start += batch) {
    const chunk = users.slice(start, start + batch);
    const histories = chunk.map((u) => u.foldIn);
    await a.score(histories, sa.subarray(0, chunk.length * items));
    await b.score(histories, sb.subarray(0, chunk.length * items));
    chunk.forEach((u, k) => {
      const ta = topK(sa.subarray(k * items, (k + 1) * items), 10, u.foldIn);
      const tb = topK(sb.subarray(k * items, (k + 1) * items), 10, u.foldIn);
      if (ta.every((v, i) => v === tb[i])) same++;
    });
  }
  return same / users.length;
}

async function packageSizes(
  dir: string,
  manifest: PackageManifest,
): Promise<{ bytes: number; modelBytes: number }> {
  let bytes = (await stat(join(dir, PACKAGE_MANIFEST_FILE))).size;
  let modelBytes = 0;
  for (const f of manifest.files) {
    bytes += f.size;
    if (f.name === MODEL_FILE || f.name === WEIGHTS_FILE) modelBytes += f.size;
  }
  return { bytes, modelBytes };
}

/**
 * What a package of a model trained on `prep` holds besides the model: the catalogue in the data's item
 * order, the default input encoding sized to it and the fallback list. One place, so every package
 * the trainer or the simulator writes encodes histories the same way.
 */
export function packageParts(
  model: LayersModel,
  prep: Prepared,
  meta: {
    modelId: string;
    metrics: Record<string, number>;
    params: Record<string, string | number>;
    quantization: PackageParts['quantization'];
  },
): PackageParts {
  return {
    modelId: meta.modelId,
    model,
    catalogue: prep.catalogue,
    encoding: { ...DEFAULT_ENCODING, eventWeights: { ...DEFAULT_ENCODING.eventWeights }, items: prep.items },
    fallback: prep.fallback,
    metrics: meta.metrics,
    params: meta.params,
    quantization: meta.quantization,
  };
}

/**
 * Writes the student as a model package, reloads it from disk (as the speaker will) and checks that the
 * reloaded model ranks like the trained one; tries the quantisation plans from smallest to largest.
 */
export async function exportStudent(
  student: Pick<TrainedStudent, 'model' | 'params' | 'scorer'>,
  prep: Prepared,
  dir: string,
  meta: { modelId: string; metrics: Record<string, number>; params: Record<string, string | number> },
  log: Logger,
): Promise<ExportResult> {
  const users = prep.split.test;
  let last: ExportResult | undefined;
  for (const { name, plan } of quantizationPlans(prep.items)) {
    const manifest = await writePackage(
      dir,
      packageParts(student.model, prep, { ...meta, quantization: plan }),
    );
    const loaded = await readPackage(dir);
    try {
      const reloaded = layersScorer('reloaded', loaded.model, prep.items, {
        params: student.params,
        bytes: null,
      });
      const agreement = await top10Agreement(student.scorer, reloaded, users, prep.items);
      last = {
        dir,
        ...(await packageSizes(dir, manifest)),
        quantization: name,
        top10Agreement: agreement,
        manifest,
      };
      log.info('package written', {
        quantization: name,
        modelBytes: last.modelBytes,
        top10Agreement: agreement,
      });
      if (agreement >= MIN_TOP10_AGREEMENT) return last;
    } finally {
      loaded.model.dispose();
    }
  }
  // Even float16 disagrees: ship it, and the report says so.
  return last!;
}
