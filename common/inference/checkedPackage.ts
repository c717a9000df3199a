import { BookrecError, errorMessage } from '../errors.js';
import { type BookEntry, catalogueIndex, validateCatalogue } from '../model/catalogue.js';
import { CARD_FILE, type EvaluationCard, validateCard } from '../model/evaluationCard.js';
import { PACKAGE_MANIFEST_FILE, type PackageManifest, validateManifest } from '../model/packageManifest.js';
import { filePath, type PackageSource } from './packageSource.js';

/**
 * A model package checked completely before any of it is used: the manifest's shape and format version,
 * every listed file's size and sha256, the catalogue, and the encoding and fallback against the
 * catalogue (docs/model-package.md). What a scoring engine then reads is exactly what was checked.
 */
export interface CheckedPackage {
  source: PackageSource;
  manifest: PackageManifest;
  catalogue: BookEntry[];
  /** Book id -> dense index (model input column and output score). */
  index: Map<number, number>;
  /** Every listed file's bytes, verified. */
  files: ReadonlyMap<string, Uint8Array>;
}

function invalid(message: string, cause?: unknown): BookrecError {
  return new BookrecError('PACKAGE_INVALID', message, cause === undefined ? undefined : { cause });
}

export async function checkPackage(source: PackageSource): Promise<CheckedPackage> {
  const manifestPath = filePath(source, PACKAGE_MANIFEST_FILE);
  const manifest = validateManifest(
    parseJson(await source.read(PACKAGE_MANIFEST_FILE), manifestPath),
    manifestPath,
  );
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const bytes = await source.read(f.name);
    const path = filePath(source, f.name);
    if (bytes.length !== f.size) {
      throw new BookrecError('PACKAGE_SIZE', `${path}: ${bytes.length} bytes, the manifest says ${f.size}`);
    }
    const got = await source.sha256(bytes);
    if (got !== f.sha256) {
      throw new BookrecError(
        'PACKAGE_CHECKSUM',
        `${path}: sha256 ${got} does not match the manifest's ${f.sha256}`,
      );
    }
    files.set(f.name, bytes);
  }
  const cataloguePath = filePath(source, manifest.catalogueFile);
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
  return { source, manifest, catalogue, index: catalogueIndex(catalogue), files };
}

/** Every fallback book must be one the catalogue can speak. */
export function checkFallback(
  fallback: readonly number[],
  catalogue: readonly BookEntry[],
  file: string,
): void {
  const ids = new Set(catalogue.map((b) => b.id));
  const missing = fallback.find((id) => !ids.has(id));
  if (missing !== undefined) throw invalid(`${file}: fallback book ${missing} is not in the catalogue`);
}

/** The bytes of a file the manifest lists, or a PACKAGE_INVALID naming the file. */
export function packageFile(pkg: CheckedPackage, name: string): Uint8Array {
  const bytes = pkg.files.get(name);
  if (bytes === undefined) {
    throw invalid(`${filePath(pkg.source, name)}: not listed in ${PACKAGE_MANIFEST_FILE}`);
  }
  return bytes;
}

/**
 * The package's evaluation card (common/model/evaluationCard.ts) when its manifest lists one: its bytes
 * were checked with every other file; a package without a card has none (undefined).
 */
export function packageCard(pkg: CheckedPackage): EvaluationCard | undefined {
  const bytes = pkg.files.get(CARD_FILE);
  if (bytes === undefined) return undefined;
  const path = filePath(pkg.source, CARD_FILE);
  return validateCard(parseJson(bytes, path), path);
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalid(`${path}: not valid JSON (${errorMessage(err)})`, err);
  }
}
