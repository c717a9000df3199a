import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fsyncDir, writeFileAtomic } from '../atomicFile.js';
import { BookrecError, errorMessage, isBookrecError } from '../errors.js';
import { type BackendName, useBackend } from './backend.js';
import { type BookEntry, CATALOGUE_FILE, type Catalogue, validateCatalogue } from './catalogue.js';
import { type InputEncoding, validateEncoding } from './encoding.js';
import { folderIo, loadModel, MODEL_FILE, WEIGHTS_FILE } from './folderIo.js';
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
 * Reads and checks a package: manifest shape and format version, every listed file's size and sha256,
 * the catalogue, the encoding and fallback against the catalogue, then the model (through folderIo, fed
 * the bytes already checked) and its width against the catalogue. All or nothing: on any error no model
 * stays allocated. Every error is a BookrecError (PACKAGE_*) naming the file.
 */
export async function readPackage(
  dir: string,
  options: { backend?: BackendName } = {},
): Promise<LoadedPackage> {
  if (options.backend !== undefined) await useBackend(options.backend);
  const manifestPath = join(dir, PACKAGE_MANIFEST_FILE);
  const parsed = parseJson(await readPackageFile(dir, PACKAGE_MANIFEST_FILE), manifestPath);
  const manifest = validateManifest(parsed, manifestPath);
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const bytes = await readPackageFile(dir, f.name);
    const path = join(dir, f.name);
    if (bytes.length !== f.size) {
      throw new BookrecError('PACKAGE_SIZE', `${path}: ${bytes.length} bytes, the manifest says ${f.size}`);
    }
    const got = sha256(bytes);
    if (got !== f.sha256) {
      throw new BookrecError(
        'PACKAGE_CHECKSUM',
        `${path}: sha256 ${got} does not match the manifest's ${f.sha256}`,
      );
    }
    files.set(f.name, bytes);
  }
  const cataloguePath = join(dir, manifest.catalogueFile);
  const catalogue = validateCatalogue(
    parseJson(files.get(manifest.catalogueFile)!, cataloguePath),
    cataloguePath,
  );
  if (manifest.encoding.items !== catalogue.length) {
    throw invalid(
      `${manifestPath}: encoding.items is ${manifest.encoding.items} but ${cataloguePath} has ${catalogue.length} books`,
    );
  }
  checkFallback(manifest.fallback, catalogue, manifestPath);
  const read = async (name: string) => {
    const bytes = files.get(name);
    if (bytes === undefined) throw invalid(`${join(dir, name)}: not listed in ${PACKAGE_MANIFEST_FILE}`);
    return bytes;
  };
  let model: tfl.LayersModel;
  try {
    model = await loadModel(folderIo(dir, { read }));
  } catch (err) {
    if (isBookrecError(err) && err.code.startsWith('PACKAGE_')) throw err;
    throw invalid(`${dir}: ${errorMessage(err)}`, err);
  }
  const { input, output } = modelWidths(model);
  if (input !== catalogue.length || output !== catalogue.length) {
    model.dispose();
    throw invalid(
      `${cataloguePath} has ${catalogue.length} books but ${join(dir, MODEL_FILE)} maps ${input} inputs to ${output} scores`,
    );
  }
  return { manifest, model, catalogue };
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalid(`${path}: not valid JSON (${errorMessage(err)})`, err);
  }
}

async function readPackageFile(dir: string, name: string): Promise<Uint8Array> {
  const path = join(dir, name);
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BookrecError('PACKAGE_MISSING_FILE', `${path} is missing`, { cause: err });
    }
    throw invalid(`${path} cannot be read: ${errorMessage(err)}`, err);
  }
}

function checkFallback(fallback: readonly number[], catalogue: Catalogue, file: string): void {
  const ids = new Set(catalogue.map((b) => b.id));
  const missing = fallback.find((id) => !ids.has(id));
  if (missing !== undefined) throw invalid(`${file}: fallback book ${missing} is not in the catalogue`);
}
