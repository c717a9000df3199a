import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { BookrecError } from '../common/errors.js';
import { CARD_FILE, cardMetrics, validateCard } from '../common/model/evaluationCard.js';
import { PACKAGE_MANIFEST_FILE, validateManifest } from '../common/model/packageManifest.js';
import { chunkCount } from '../common/protocol/chunker.js';
import { isSafeFileName, type ManifestFile, type ManifestLimits } from '../common/protocol/manifest.js';

/** A file of a model package, read into memory (bounded by the release limits) and described. */
export interface PackageFile {
  entry: ManifestFile;
  data: Buffer;
}

/**
 * Reads a model package: every regular file under the folder, sorted by path. Symbolic links and odd
 * names are refused rather than followed or mangled: what is signed must be exactly what devices get.
 * Sizes are checked against the limits devices enforce, so a release they would refuse is never sent.
 */
export async function readPackage(
  dir: string,
  chunkSize: number,
  limits: ManifestLimits,
): Promise<PackageFile[]> {
  const paths = await listFiles(dir, dir);
  if (paths.length === 0) throw new BookrecError('PACKAGE_EMPTY', `package ${dir} has no files`);
  if (paths.length > limits.maxFiles) {
    throw new BookrecError(
      'PACKAGE_TOO_LARGE',
      `package ${dir}: ${paths.length} files, at most ${limits.maxFiles}`,
    );
  }
  const files: PackageFile[] = [];
  let total = 0;
  for (const name of paths.sort()) {
    const path = join(dir, ...name.split('/'));
    const { size } = await lstat(path);
    total += size;
    if (size > limits.maxFileBytes || total > limits.maxReleaseBytes) {
      throw new BookrecError(
        'PACKAGE_TOO_LARGE',
        `package ${dir}: ${name} brings it to ${total} bytes (file limit ${limits.maxFileBytes}, release limit ${limits.maxReleaseBytes})`,
      );
    }
    const data = await readFile(path);
    files.push({
      entry: {
        name,
        size: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        chunkSize,
        chunks: chunkCount(data.length, chunkSize),
      },
      data,
    });
  }
  return files;
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new BookrecError(
      'PACKAGE_MISSING',
      `package ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const name = relative(root, path).split(sep).join(posix.sep);
    if (e.isDirectory()) out.push(...(await listFiles(root, path)));
    else if (!e.isFile())
      throw new BookrecError('PACKAGE_INVALID', `package file ${name} is not a regular file`);
    else if (!isSafeFileName(name)) {
      throw new BookrecError('PACKAGE_INVALID', `package file name ${JSON.stringify(name)} is not allowed`);
    } else out.push(name);
  }
  return out;
}

/** What publish takes from a model package's own manifest (docs/model-package.md), when it has one. */
export interface PackageInfo {
  modelId?: string;
  metrics: Record<string, number>;
}

/**
 * Reads `bookrec-package.json` if the package has one, with the same strict reader devices use
 * (common/model/packageManifest.ts, no tfjs): its model id and metrics become publish's defaults, and
 * every file it lists must match the size and sha256 publish computed, so a package broken after export
 * is refused here rather than by every device. A listed evaluation card (card.json) is checked and its
 * figures join the metrics, so the signed release manifest carries them (`bookrec fleet` shows them).
 */
export function packageInfo(files: PackageFile[]): PackageInfo {
  const own = files.find((f) => f.entry.name === PACKAGE_MANIFEST_FILE);
  if (!own) return { metrics: {} };
  let value: unknown;
  try {
    value = JSON.parse(own.data.toString('utf8'));
  } catch (err) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${PACKAGE_MANIFEST_FILE}: not JSON (${(err as Error).message})`,
    );
  }
  const m = validateManifest(value, PACKAGE_MANIFEST_FILE);
  const byName = new Map(files.map((f) => [f.entry.name, f.entry]));
  for (const { name, size, sha256 } of m.files) {
    const have = byName.get(name);
    if (!have || have.size !== size || have.sha256 !== sha256) {
      throw new BookrecError(
        'PACKAGE_INVALID',
        `${PACKAGE_MANIFEST_FILE} lists ${JSON.stringify(name)} (${size} bytes, sha256 ${sha256}) but the folder has ${have ? `${have.size} bytes, sha256 ${have.sha256}` : 'no such file'}`,
      );
    }
  }
  const card = files.find((f) => f.entry.name === CARD_FILE && m.files.some((l) => l.name === CARD_FILE));
  if (!card) return { modelId: m.modelId, metrics: m.metrics };
  let parsed: unknown;
  try {
    parsed = JSON.parse(card.data.toString('utf8'));
  } catch (err) {
    throw new BookrecError('PACKAGE_INVALID', `${CARD_FILE}: not JSON (${(err as Error).message})`);
  }
  return { modelId: m.modelId, metrics: { ...m.metrics, ...cardMetrics(validateCard(parsed, CARD_FILE)) } };
}
