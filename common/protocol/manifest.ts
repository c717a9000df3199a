import { BookrecError } from '../errors.js';
import { isValidName } from './topics.js';

/**
 * The release manifest: what deploy signs and publishes, and what a device checks before it fetches a
 * single chunk. The field list and its rules are written down in docs/protocol.md.
 */

/** Bumped when a field changes meaning; a device refuses formats it does not know. */
export const MANIFEST_FORMAT = 1;

export interface ManifestFile {
  /** Relative path inside the model package, '/'-separated. */
  name: string;
  size: number;
  /** Lowercase hex sha256 of the whole file. */
  sha256: string;
  chunkSize: number;
  /** ceil(size / chunkSize); 0 for an empty file. */
  chunks: number;
}

export interface ReleaseManifest {
  format: number;
  channel: string;
  model: string;
  /** The model version: increases with every release of a channel; devices never go down unless `rollback`. */
  version: number;
  /** Increases with every signed manifest of a channel (release, rollout change, rollback): replay guard. */
  serial: number;
  createdAt: string;
  files: ManifestFile[];
  rollout: { percent: number; salt: string };
  /** The oldest agent (x.y.z) that can run this model. */
  minAgentVersion: string;
  metrics: Record<string, number>;
  /** Allows a device to install a version lower than the one it has. */
  rollback: boolean;
  /** The release a rollback would return to, whose chunks stay retained; null when there is none. */
  previousVersion: number | null;
  keyId: string;
}

export interface SignedManifest extends ReleaseManifest {
  /** Base64 Ed25519 signature over the canonical form of every other field (see signing.ts). */
  signature: string;
}

/** Bounds a device enforces before it allocates anything for a release. */
export interface ManifestLimits {
  /** Bytes of manifest JSON read at all. */
  maxManifestBytes: number;
  maxFiles: number;
  maxFileBytes: number;
  /** All files of a release together: what a transfer holds in memory. */
  maxReleaseBytes: number;
  minChunkSize: number;
  maxChunkSize: number;
}

export const DEFAULT_LIMITS: ManifestLimits = {
  maxManifestBytes: 64 * 1024,
  maxFiles: 64,
  maxFileBytes: 64 * 1024 * 1024,
  maxReleaseBytes: 64 * 1024 * 1024,
  minChunkSize: 1024,
  // Brokers cap message size (AWS IoT: 128 KB including the topic); larger chunks would be dropped.
  maxChunkSize: 128 * 1024,
};

const TOP_FIELDS = [
  'format',
  'channel',
  'model',
  'version',
  'serial',
  'createdAt',
  'files',
  'rollout',
  'minAgentVersion',
  'metrics',
  'rollback',
  'previousVersion',
  'keyId',
  'signature',
];
const FILE_FIELDS = ['name', 'size', 'sha256', 'chunkSize', 'chunks'];
const SEMVER = /^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$/;
const SHA256 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const SALT = /^[A-Za-z0-9._-]{1,64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MAX_METRICS = 32;

/** A package file name that cannot escape the staging folder on any device. */
export function isSafeFileName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) return false;
  return name.split('/').every((part) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(part) && part !== '..');
}

export function isSemver(value: unknown): value is string {
  return typeof value === 'string' && SEMVER.test(value);
}

/** Compares two x.y.z versions: negative, zero or positive. */
export function compareSemver(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/**
 * Checks the shape of a signed manifest and returns it typed. Every problem is listed in one error
 * (code MANIFEST_INVALID), or MANIFEST_FORMAT when the format is one this code does not know.
 */
export function validateManifest(value: unknown): SignedManifest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BookrecError('MANIFEST_INVALID', 'manifest: not a JSON object');
  }
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) {
    throw new BookrecError(
      'MANIFEST_FORMAT',
      `manifest: format ${JSON.stringify(m.format)} is not one this code understands (${MANIFEST_FORMAT})`,
    );
  }
  const problems: string[] = [];
  const need = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  for (const key of Object.keys(m)) need(TOP_FIELDS.includes(key), `unknown field ${key}`);
  // A missing field gets its own words: "keyId missing" says more than "keyId must be 16 hex".
  const field = (key: string, ok: (v: unknown) => boolean, rule: string) => {
    if (m[key] === undefined) problems.push(`${key} missing`);
    else need(ok(m[key]), `${key} ${rule}`);
  };
  field('channel', isValidName, 'must be a name of A-Z a-z 0-9 . _ - (1-64)');
  field('model', isValidName, 'must be a name of A-Z a-z 0-9 . _ - (1-64)');
  field('version', isPositiveInt, 'must be a positive integer');
  field('serial', isPositiveInt, 'must be a positive integer');
  field('createdAt', (v) => typeof v === 'string' && ISO_TIME.test(v), 'must be an ISO UTC time');
  field('minAgentVersion', isSemver, 'must be x.y.z');
  field('rollback', (v) => typeof v === 'boolean', 'must be true or false');
  field('previousVersion', (v) => v === null || isPositiveInt(v), 'must be a version or null');
  field('keyId', (v) => typeof v === 'string' && KEY_ID.test(v), 'must be 16 hex characters');
  field('signature', (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
  for (const [key, check] of [
    ['rollout', checkRollout],
    ['metrics', checkMetrics],
    ['files', checkFiles],
  ] as const) {
    if (m[key] === undefined) problems.push(`${key} missing`);
    else check(m[key], need);
  }
  if (problems.length > 0) {
    throw new BookrecError('MANIFEST_INVALID', `manifest: ${problems.join('; ')}`);
  }
  return m as unknown as SignedManifest;
}

/** Refuses a release whose claimed sizes pass the device's bounds: checked before any allocation. */
export function checkLimits(manifest: ReleaseManifest, limits: ManifestLimits): void {
  const problems: string[] = [];
  if (manifest.files.length > limits.maxFiles) {
    problems.push(`${manifest.files.length} files, at most ${limits.maxFiles} allowed`);
  }
  let total = 0;
  for (const f of manifest.files) {
    total += f.size;
    if (f.size > limits.maxFileBytes) {
      problems.push(`file ${f.name} claims ${f.size} bytes, at most ${limits.maxFileBytes} allowed`);
    }
    if (f.chunkSize < limits.minChunkSize || f.chunkSize > limits.maxChunkSize) {
      problems.push(
        `file ${f.name} chunk size ${f.chunkSize} outside ${limits.minChunkSize}..${limits.maxChunkSize}`,
      );
    }
  }
  if (total > limits.maxReleaseBytes) {
    problems.push(`release claims ${total} bytes, at most ${limits.maxReleaseBytes} allowed`);
  }
  if (problems.length > 0) throw new BookrecError('RELEASE_TOO_LARGE', `release: ${problems.join('; ')}`);
}

/** The manifest without its signature: the part the signature covers. */
export function unsignedPart(manifest: SignedManifest): ReleaseManifest {
  const { signature: _signature, ...rest } = manifest;
  return rest;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function checkRollout(value: unknown, need: (ok: boolean, problem: string) => void): void {
  const r = value as Record<string, unknown> | null;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    need(false, 'rollout must be an object { percent, salt }');
    return;
  }
  for (const key of Object.keys(r)) need(key === 'percent' || key === 'salt', `unknown field rollout.${key}`);
  need(
    typeof r.percent === 'number' && r.percent >= 0 && r.percent <= 100,
    'rollout.percent must be a number 0..100',
  );
  need(
    typeof r.salt === 'string' && SALT.test(r.salt),
    'rollout.salt must be 1-64 characters A-Z a-z 0-9 . _ -',
  );
}

function checkMetrics(value: unknown, need: (ok: boolean, problem: string) => void): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    need(false, 'metrics must be an object of numbers');
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  need(entries.length <= MAX_METRICS, `metrics: at most ${MAX_METRICS} entries`);
  for (const [k, v] of entries) {
    need(typeof v === 'number' && Number.isFinite(v), `metrics.${k} must be a finite number`);
  }
}

function checkFiles(value: unknown, need: (ok: boolean, problem: string) => void): void {
  if (!Array.isArray(value) || value.length === 0) {
    need(false, 'files must be a non-empty list');
    return;
  }
  const names = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const at = `files[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      need(false, `${at} must be an object`);
      return;
    }
    const f = entry as Record<string, unknown>;
    for (const key of Object.keys(f)) need(FILE_FIELDS.includes(key), `unknown field ${at}.${key}`);
    need(isSafeFileName(f.name), `${at}.name must be a relative path without .. or unusual characters`);
    if (typeof f.name === 'string') {
      need(!names.has(f.name), `${at}.name ${f.name} is listed twice`);
      names.add(f.name);
    }
    need(
      typeof f.size === 'number' && Number.isSafeInteger(f.size) && f.size >= 0,
      `${at}.size must be bytes`,
    );
    need(typeof f.sha256 === 'string' && SHA256.test(f.sha256), `${at}.sha256 must be 64 lowercase hex`);
    need(isPositiveInt(f.chunkSize), `${at}.chunkSize must be a positive integer`);
    if (isPositiveInt(f.chunkSize) && typeof f.size === 'number') {
      const expected = Math.ceil(f.size / f.chunkSize);
      need(f.chunks === expected, `${at}.chunks must be ceil(size / chunkSize) = ${expected}`);
    }
  });
}
