import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { BookrecError } from '../common/errors.js';
import { CARD_FILE, cardMetrics, validateCard } from '../common/model/evaluationCard.js';
import {
  PACKAGE_MANIFEST_FILE,
  type PackageManifest,
  packageFileNames,
  validateManifest,
} from '../common/model/packageManifest.js';
import { chunkCount } from '../common/protocol/chunker.js';
import { isSafeFileName, type ManifestFile, type ManifestLimits } from '../common/protocol/manifest.js';
import { secretReason } from './secretFiles.js';

/** A file of a model package, read into memory (bounded by the release limits) and described. */
export interface PackageFile {
  entry: ManifestFile;
  data: Buffer;
}

/**
 * Reads a folder as a release: every regular file under it, sorted by path. Symbolic links and odd
 * names are refused rather than followed or mangled: what is signed must be exactly what devices get.
 * Sizes are checked against the limits devices enforce, so a release they would refuse is never sent.
 * `bookrec publish` reads a model package with readListedPackage instead: only what the package lists.
 */
export async function readPackage(
  dir: string,
  chunkSize: number,
  limits: ManifestLimits,
): Promise<PackageFile[]> {
  const entries = await listFolder(dir);
  for (const e of entries) checkEntry(e);
  return readFiles(
    dir,
    entries.map((e) => e.name),
    chunkSize,
    limits,
  );
}

/** A model package as publish ships it, and the folder's other files, which it leaves out. */
export interface ListedPackage {
  files: PackageFile[];
  /** Files in the folder the package does not list: not published. */
  unlisted: string[];
}

/**
 * Reads the files a model package lists: `bookrec-package.json` and every file its `files` names, and
 * nothing else, so a file copied into the folder is never signed and sent to every device. Anything in
 * the folder that looks like a key or a secret (deploy/secretFiles.ts), listed or not, is refused with
 * PACKAGE_SECRET naming it; other unlisted files are returned for the caller to warn about.
 */
export async function readListedPackage(
  dir: string,
  chunkSize: number,
  limits: ManifestLimits,
): Promise<ListedPackage> {
  const entries = await listFolder(dir);
  refuseSecrets(
    dir,
    entries.map((e) => ({ name: e.name, reason: secretReason(e.name) })),
  );
  const byName = new Map(entries.map((e) => [e.name, e]));
  const own = byName.get(PACKAGE_MANIFEST_FILE);
  if (!own) throw notAModelPackage(dir);
  checkEntry(own);
  const [manifestFile] = await readFiles(dir, [PACKAGE_MANIFEST_FILE], chunkSize, limits);
  const listed = [...packageFileNames(ownManifest(manifestFile.data))];
  for (const name of listed) {
    const e = byName.get(name);
    if (!e) {
      throw new BookrecError(
        'PACKAGE_INVALID',
        `package ${dir}: ${PACKAGE_MANIFEST_FILE} lists ${name} but the folder has no such file`,
      );
    }
    checkEntry(e);
  }
  const files = await readFiles(dir, listed, chunkSize, limits);
  refuseSecrets(
    dir,
    files.map((f) => ({ name: f.entry.name, reason: secretReason(f.entry.name, f.data) })),
  );
  const shipped = new Set(listed);
  return { files, unlisted: entries.map((e) => e.name).filter((n) => !shipped.has(n)) };
}

/** The refusal when a folder has no manifest of its own. */
export function notAModelPackage(label: string): BookrecError {
  return new BookrecError(
    'PACKAGE_INVALID',
    `${label} is not a model package: it has no ${PACKAGE_MANIFEST_FILE} (bookrec train writes packages; see docs/model-package.md)`,
  );
}

function refuseSecrets(dir: string, found: { name: string; reason: string | undefined }[]): void {
  const secret = found.filter((f) => f.reason !== undefined);
  if (secret.length === 0) return;
  const list = secret.map((f) => `${f.name} (${f.reason})`).join(', ');
  throw new BookrecError(
    'PACKAGE_SECRET',
    `package ${dir}: ${list} looks like a key or secret; nothing was published. A release is readable by every device and mirrored by bookrec serve: move ${secret.length === 1 ? 'it' : 'them'} out of the package folder`,
  );
}

async function readFiles(
  dir: string,
  names: string[],
  chunkSize: number,
  limits: ManifestLimits,
): Promise<PackageFile[]> {
  if (names.length === 0) throw new BookrecError('PACKAGE_EMPTY', `package ${dir} has no files`);
  if (names.length > limits.maxFiles) {
    throw new BookrecError(
      'PACKAGE_TOO_LARGE',
      `package ${dir}: ${names.length} files, at most ${limits.maxFiles}`,
    );
  }
  const files: PackageFile[] = [];
  let total = 0;
  for (const name of [...names].sort()) {
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

/** A file of the folder (not a directory), by its path inside it with `/`. */
interface FolderEntry {
  name: string;
  regular: boolean;
}

/** Symbolic links, devices and odd names are refused: what is signed must be what devices get. */
function checkEntry(e: FolderEntry): void {
  if (!e.regular) throw new BookrecError('PACKAGE_INVALID', `package file ${e.name} is not a regular file`);
  if (!isSafeFileName(e.name)) {
    throw new BookrecError('PACKAGE_INVALID', `package file name ${JSON.stringify(e.name)} is not allowed`);
  }
}

async function listFolder(root: string, dir = root): Promise<FolderEntry[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw missingFolder(dir, err as NodeJS.ErrnoException);
  }
  const out: FolderEntry[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const name = relative(root, path).split(sep).join(posix.sep);
    if (e.isDirectory()) out.push(...(await listFolder(root, path)));
    else out.push({ name, regular: e.isFile() });
  }
  return out;
}

/** A package folder that cannot be read, said with what to do rather than a bare ENOENT. */
function missingFolder(dir: string, err: NodeJS.ErrnoException): BookrecError {
  const why =
    err.code === 'ENOENT'
      ? 'no such folder (bookrec train writes the package to OUT/package; give that folder)'
      : err.code === 'ENOTDIR'
        ? 'not a folder (give the package folder, not one of its files)'
        : err.code === 'EACCES'
          ? 'permission denied (run as a user who can read it)'
          : (err.code ?? err.message);
  return new BookrecError('PACKAGE_MISSING', `package ${dir}: ${why}`, { cause: err });
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
  const m = ownManifest(own.data);
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

/** The package's own manifest, read with the strict reader devices use. */
function ownManifest(data: Buffer): PackageManifest {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${PACKAGE_MANIFEST_FILE}: not JSON (${(err as Error).message})`,
    );
  }
  return validateManifest(value, PACKAGE_MANIFEST_FILE);
}
