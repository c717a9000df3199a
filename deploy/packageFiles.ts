import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { BookrecError } from '../common/errors.js';
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

const PACKAGE_MANIFEST = 'bookrec-package.json';

/**
 * Reads `bookrec-package.json` if the package has one: its model id and metrics become publish's
 * defaults, and every file it lists must match the size and sha256 publish computed, so a package
 * broken after export is refused here rather than by every device. Only these fields are read; the
 * agent validates the rest of the format when it loads the model.
 */
export function packageInfo(files: PackageFile[]): PackageInfo {
  const own = files.find((f) => f.entry.name === PACKAGE_MANIFEST);
  if (!own) return { metrics: {} };
  let value: unknown;
  try {
    value = JSON.parse(own.data.toString('utf8'));
  } catch (err) {
    throw new BookrecError('PACKAGE_INVALID', `${PACKAGE_MANIFEST}: not JSON (${(err as Error).message})`);
  }
  const m = (value ?? {}) as { modelId?: unknown; metrics?: unknown; files?: unknown };
  const byName = new Map(files.map((f) => [f.entry.name, f.entry]));
  for (const listed of Array.isArray(m.files) ? m.files : []) {
    const { name, size, sha256 } = (listed ?? {}) as { name?: unknown; size?: unknown; sha256?: unknown };
    const have = typeof name === 'string' ? byName.get(name) : undefined;
    if (!have || have.size !== size || have.sha256 !== sha256) {
      throw new BookrecError(
        'PACKAGE_INVALID',
        `${PACKAGE_MANIFEST} lists ${JSON.stringify(name)} (${String(size)} bytes, sha256 ${String(sha256)}) but the folder has ${have ? `${have.size} bytes, sha256 ${have.sha256}` : 'no such file'}`,
      );
    }
  }
  const metrics: Record<string, number> = {};
  if (m.metrics && typeof m.metrics === 'object') {
    for (const [k, v] of Object.entries(m.metrics)) {
      if (typeof v === 'number' && Number.isFinite(v) && Object.keys(metrics).length < 32) metrics[k] = v;
    }
  }
  return { modelId: typeof m.modelId === 'string' ? m.modelId : undefined, metrics };
}
