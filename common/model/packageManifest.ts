import { BookrecError } from '../errors.js';
import { type InputEncoding, validateEncoding } from './encoding.js';
import { checkNumber, describe, StrictObject } from './jsonFields.js';
import { MODEL_FILE, WEIGHTS_FILE } from './modelJson.js';
import {
  isWeightQuantization,
  type Quantization,
  WEIGHT_QUANTIZATIONS,
  type WeightQuantization,
} from './quantize.js';

/**
 * `bookrec-package.json`, the model package's manifest: what the package holds and how to use it, with
 * every other file's size and sha256 (docs/model-package.md is the reference). Read strictly: the format
 * version first, then every field's type; unknown fields are errors (a new field means a new format).
 */
export const PACKAGE_FORMAT_VERSION = 1;
export const PACKAGE_MANIFEST_FILE = 'bookrec-package.json';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface PackageFile {
  name: string;
  size: number;
  sha256: string;
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT_VERSION;
  modelId: string;
  /** ISO 8601. */
  createdAt: string;
  files: PackageFile[];
  modelFile: typeof MODEL_FILE;
  catalogueFile: string;
  encoding: InputEncoding;
  /** Book ids to offer a listener with no history, best first. */
  fallback: number[];
  metrics: Record<string, number>;
  /** How the model was made (architecture, a, T, seed, ...): free-form, for people and reports. */
  params: Record<string, JsonValue>;
  /** As asked at export; model.json's weight manifest records what each weight really is. */
  quantization: Quantization;
}

/**
 * The files a package is made of: its manifest and every file the manifest lists. Nothing else in a
 * package folder is published or served (a key copied in beside the model must never go out).
 */
export function packageFileNames(m: Pick<PackageManifest, 'files'>): Set<string> {
  return new Set([PACKAGE_MANIFEST_FILE, ...m.files.map((f) => f.name)]);
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks the manifest's JSON shape; the format version first, so a newer package says so plainly. */
export function validateManifest(value: unknown, file: string): PackageManifest {
  const o = StrictObject.of(value, file, '', 'PACKAGE_INVALID');
  const format = o.has('format') ? o.raw('format') : undefined;
  if (format !== PACKAGE_FORMAT_VERSION) {
    throw new BookrecError(
      'PACKAGE_FORMAT',
      `${file}: format ${describe(format)} is not supported (this build reads format ${PACKAGE_FORMAT_VERSION})`,
    );
  }
  const modelId = o.string('modelId', true);
  const createdAt = o.string('createdAt');
  if (Number.isNaN(Date.parse(createdAt)))
    throw o.fail('createdAt', `"${createdAt}" is not an ISO 8601 date`);
  const files = o.array('files').map((raw, i) => {
    const f = StrictObject.of(raw, file, `files[${i}]`, 'PACKAGE_INVALID');
    const entry = {
      name: f.string('name'),
      size: f.number('size', { integer: true, min: 0 }),
      sha256: f.string('sha256'),
    };
    f.end();
    // Plain names only: a manifest must not make the reader open "../../etc/passwd".
    if (!FILE_NAME.test(entry.name) || entry.name === PACKAGE_MANIFEST_FILE) {
      throw f.fail('name', `"${entry.name}" is not a plain file name`);
    }
    if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw f.fail('sha256', 'must be 64 lowercase hex digits');
    return entry;
  });
  const names = new Set(files.map((f) => f.name));
  if (names.size !== files.length) throw o.fail('files', 'lists a file twice');
  const modelFile = o.string('modelFile');
  if (modelFile !== MODEL_FILE) throw o.fail('modelFile', `must be "${MODEL_FILE}", not "${modelFile}"`);
  const catalogueFile = o.string('catalogueFile');
  if (catalogueFile === MODEL_FILE || catalogueFile === WEIGHTS_FILE) {
    throw o.fail('catalogueFile', `must not be "${catalogueFile}"`);
  }
  for (const required of [MODEL_FILE, WEIGHTS_FILE, catalogueFile]) {
    if (!names.has(required)) throw o.fail('files', `does not list ${required}`);
  }
  const encoding = validateEncoding(o.raw('encoding'), file);
  const fallback = o
    .array('fallback')
    .map((id, i) => checkNumber(id, { integer: true, min: 1 }, (m) => o.fail(`fallback[${i}]`, m)));
  const m = o.object('metrics');
  const metrics = Object.fromEntries(m.keys().map((k) => [k, m.number(k)]));
  const params = o.object('params');
  params.keys();
  const quantization = checkQuantization(o);
  o.end();
  return {
    format: PACKAGE_FORMAT_VERSION,
    modelId,
    createdAt,
    files,
    modelFile: MODEL_FILE,
    catalogueFile,
    encoding,
    fallback,
    metrics,
    params: (value as { params: Record<string, JsonValue> }).params,
    quantization,
  };
}

function checkQuantization(o: StrictObject): Quantization {
  const modes = WEIGHT_QUANTIZATIONS.join(', ');
  if (typeof o.raw('quantization') === 'string') {
    const mode = o.string('quantization');
    if (!isWeightQuantization(mode)) throw o.fail('quantization', `"${mode}" is not one of ${modes}`);
    return mode;
  }
  const plan = o.object('quantization');
  const mode = plan.string('default');
  if (!isWeightQuantization(mode)) throw plan.fail('default', `"${mode}" is not one of ${modes}`);
  const byName: Record<string, WeightQuantization> = {};
  if (plan.has('byName')) {
    const names = plan.object('byName');
    for (const name of names.keys()) {
      const m = names.string(name);
      if (!isWeightQuantization(m)) throw names.fail(name, `"${m}" is not one of ${modes}`);
      byName[name] = m;
    }
  }
  plan.end();
  return plan.has('byName') ? { default: mode, byName } : { default: mode };
}
