import { BookrecError } from '../errors.js';
import type { BookEntry } from '../model/catalogue.js';
import type { PackageManifest } from '../model/packageManifest.js';
import { checkPackage } from './checkedPackage.js';
import type { EngineLoader, ScoringEngine } from './engine.js';
import type { PackageSource } from './packageSource.js';
import { sparseEngine } from './sparseEngine.js';

/** A package ready to rank: its manifest, catalogue and lookups, and the engine that scores. */
export interface OpenModel {
  manifest: PackageManifest;
  catalogue: readonly BookEntry[];
  /** Book id -> dense index. */
  index: ReadonlyMap<number, number>;
  engine: ScoringEngine;
}

export interface OpenOptions {
  /** For models the JS engine cannot run (an MLP student): e.g. tfjs. Without it they are refused. */
  loadOther?: EngineLoader;
}

/**
 * Checks a package completely (checkedPackage.ts), then builds its engine: the JS engine for the sparse
 * student, else the host's loader. Nothing is kept when anything fails.
 */
export async function openModel(source: PackageSource, options: OpenOptions = {}): Promise<OpenModel> {
  const pkg = await checkPackage(source);
  let engine = sparseEngine(pkg);
  if (!engine) {
    if (!options.loadOther) {
      throw new BookrecError(
        'PACKAGE_UNSUPPORTED',
        `${source.label}: the model is not a sparse student and no other engine is available here`,
      );
    }
    engine = await options.loadOther(pkg);
  }
  if (engine.items !== pkg.catalogue.length) {
    engine.dispose();
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${source.label}: the catalogue has ${pkg.catalogue.length} books but the model scores ${engine.items}`,
    );
  }
  return { manifest: pkg.manifest, catalogue: pkg.catalogue, index: pkg.index, engine };
}
