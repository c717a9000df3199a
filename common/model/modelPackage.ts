import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fsyncDir, writeFileAtomic } from '../atomicFile.js';
import { BookrecError, errorMessage, isBookrecError } from '../errors.js';
import {
  type CheckedPackage,
  checkFallback,
  checkPackage,
  packageFile,
} from '../inference/checkedPackage.js';
import { nodePackageSource } from '../inference/nodePackageSource.js';
import { type BackendName, useBackend } from './backend.js';
import { type BookEntry, CATALOGUE_FILE, type Catalogue, validateCatalogue } from './catalogue.js';
import { type InputEncoding, validateEncoding } from './encoding.js';
import { folderIo, loadModel } from './folderIo.js';
import { MODEL_FILE, WEIGHTS_FILE } from './modelJson.js';
import {
  type JsonValue,
  PACKAGE_FORMAT_VERSION,
  PACKAGE_MANIFEST_FILE,
  type PackageFile,
  type PackageManifest,
  validateManifest,
} from './packageManifest.js';
import { modeFor, type Quantization } from './quantize.js';
// Registers SparseFanIn with tfjs, so a package whose model uses it deserializes wherever this is imported.
import './sparseFanIn.js';

/**
 * The model package: one folder holding everything the device needs to recommend (docs/model-package.md
 * is the reference). Its manifest (packageManifest.ts) lists every other file with its size and sha256,
 * so a package is checked completely before any of it is used.
 */
export interface PackageParts {
  modelId: string;
  model: tfl.LayersModel;
  catalogue: Catalogue;
  encoding: InputEncoding;
  fallback: readonly number[];
  metrics?: Record<string, number>;
  params?: Record<string, JsonValue>;
  /** Default uint8. */
  quantization?: Quantization;
  createdAt?: Date;
}

export interface LoadedPackage {
  manifest: PackageManifest;
  /** The caller owns it: dispose() it when done. */
  model: tfl.LayersModel;
  catalogue: BookEntry[];
}

function invalid(message: string, cause?: unknown): BookrecError {
  return new BookrecError('PACKAGE_INVALID', message, cause === undefined ? undefined : { cause });
}

/** The model's input and output widths; a package model maps items -> items. */
function modelWidths(model: tfl.LayersModel): { input: number | null; output: number | null } {
  const one = (shapes: tfl.SymbolicTensor[]) => (shapes.length === 1 ? (shapes[0].shape[1] ?? null) : null);
  return { input: one(model.inputs), output: one(model.outputs) };
}

/** Everything about the parts that can be wrong, checked before anything touches the disk. */
function checkParts(parts: PackageParts, file: string): void {
  if (typeof parts.modelId !== 'string' || parts.modelId === '')
    throw invalid(`${file}: modelId must not be empty`);
  validateCatalogue(parts.catalogue, file);
  validateEncoding(JSON.parse(JSON.stringify(parts.encoding)), file);
  const books = parts.catalogue.length;
  const { input, output } = modelWidths(parts.model);
  if (input !== books || output !== books) {
    throw invalid(
      `${file}: the catalogue has ${books} books but the model maps ${input} inputs to ${output} scores`,
    );
  }
  if (parts.encoding.items !== books) {
    throw invalid(
      `${file}: the encoding is for ${parts.encoding.items} items, the catalogue has ${books} books`,
    );
  }
  checkFallback(parts.fallback, parts.catalogue, file);
  modeFor(parts.quantization ?? 'uint8');
}

/**
 * Writes a complete package to `dir`: everything goes into a temp folder beside it (same file system),
 * is fsynced, then renamed into place, so `dir` is never a half-written package. An existing package is
 * moved aside for the rename and deleted after; keeping a valid package in place at every instant is
 * the device's job (it switches between versioned folders).
 */
export async function writePackage(dir: string, parts: PackageParts): Promise<PackageManifest> {
  const parent = dirname(dir);
  const label = `writePackage(${dir})`;
  checkParts(parts, label);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(tmp);
    const quantization = parts.quantization ?? 'uint8';
    await parts.model.save(folderIo(tmp, { quantization }));
    await writeFileAtomic(join(tmp, CATALOGUE_FILE), JSON.stringify(parts.catalogue));
    const files: PackageFile[] = [];
    // Sizes and hashes of what is on disk, read back, not of what we meant to write.
    for (const name of [MODEL_FILE, WEIGHTS_FILE, CATALOGUE_FILE]) {
      const bytes = await readFile(join(tmp, name));
      files.push({ name, size: bytes.length, sha256: sha256(bytes) });
    }
    const manifest: PackageManifest = {
      format: PACKAGE_FORMAT_VERSION,
      modelId: parts.modelId,
      createdAt: (parts.createdAt ?? new Date()).toISOString(),
      files,
      modelFile: MODEL_FILE,
      catalogueFile: CATALOGUE_FILE,
      encoding: parts.encoding,
      fallback: [...parts.fallback],
      metrics: parts.metrics ?? {},
      params: parts.params ?? {},
      quantization,
    };
    // The writer runs the reader's checks, so it cannot produce a package the device would refuse.
    validateManifest(JSON.parse(JSON.stringify(manifest)), label);
    await writeFileAtomic(join(tmp, PACKAGE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncDir(tmp);
    await moveIntoPlace(tmp, dir);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** rename() cannot replace a non-empty folder: move the old one aside, rename, then delete it. */
async function moveIntoPlace(tmp: string, dir: string): Promise<void> {
  try {
    await rename(tmp, dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    const old = `${tmp}.old`;
    await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (again) {
      await rename(old, dir);
      throw again;
    }
    await fsyncDir(dirname(dir));
    await rm(old, { recursive: true, force: true });
    return;
  }
  await fsyncDir(dirname(dir));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads and checks a package as a tfjs LayersModel (the trainer's reload check, tools): every check of
 * common/inference/checkedPackage.ts, then the model through folderIo, fed the bytes already checked,
 * and its width against the catalogue. All or nothing: on any error no model stays allocated. Every
 * error is a BookrecError (PACKAGE_*) naming the file. Devices and servers use openModel instead, which
 * runs the sparse student without tfjs.
 */
export async function readPackage(
  dir: string,
  options: { backend?: BackendName } = {},
): Promise<LoadedPackage> {
  if (options.backend !== undefined) await useBackend(options.backend);
  const pkg = await checkPackage(nodePackageSource(dir));
  const model = await loadPackageModel(pkg);
  return { manifest: pkg.manifest, model, catalogue: pkg.catalogue };
}

/** The checked package's model as a LayersModel, its width checked against the catalogue. */
export async function loadPackageModel(pkg: CheckedPackage): Promise<tfl.LayersModel> {
  const label = pkg.source.label;
  let model: tfl.LayersModel;
  try {
    model = await loadModel(folderIo(label, { read: async (name) => packageFile(pkg, name) }));
  } catch (err) {
    if (isBookrecError(err) && err.code.startsWith('PACKAGE_')) throw err;
    throw invalid(`${label}: ${errorMessage(err)}`, err);
  }
  const { input, output } = modelWidths(model);
  const books = pkg.catalogue.length;
  if (input !== books || output !== books) {
    model.dispose();
    throw invalid(
      `${label}/${pkg.manifest.catalogueFile} has ${books} books but ${label}/${MODEL_FILE} maps ${input} inputs to ${output} scores`,
    );
  }
  return model;
}
