import { type Static, Type } from '@sinclair/typebox';
import { BookrecError } from '../errors.js';
import { contract } from './contract.js';
import { IsoTime, Name, PositiveInt, Sha256 } from './fields.js';

/**
 * The release manifest: what deploy signs and publishes, and what a device checks before it fetches a
 * single chunk. The field list and its rules are written down in docs/protocol.md.
 */

/** Bumped when a field changes meaning; a device refuses formats it does not know. */
export const MANIFEST_FORMAT = 1;

const FILE_PART = '[A-Za-z0-9_][A-Za-z0-9._-]*';
const SEMVER_PATTERN = '^(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})$';
const MAX_METRICS = 32;

export const ManifestFileSchema = Type.Object(
  {
    name: Type.String({
      maxLength: 200,
      pattern: `^${FILE_PART}(/${FILE_PART})*$`,
      description: 'a relative path without .. or unusual characters',
    }),
    size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'bytes' }),
    sha256: Sha256(),
    chunkSize: PositiveInt(),
    chunks: Type.Integer({ minimum: 0, description: 'ceil(size / chunkSize)' }),
  },
  { additionalProperties: false },
);

const manifestFields = {
  format: Type.Literal(MANIFEST_FORMAT),
  channel: Name('a channel name'),
  model: Name('a model name'),
  version: PositiveInt(),
  serial: PositiveInt(),
  createdAt: IsoTime(),
  files: Type.Array(ManifestFileSchema, { minItems: 1, description: 'a non-empty list' }),
  rollout: Type.Object(
    {
      percent: Type.Number({ minimum: 0, maximum: 100, description: 'a number 0..100' }),
      salt: Type.String({
        pattern: '^[A-Za-z0-9._-]{1,64}$',
        description: '1-64 characters A-Z a-z 0-9 . _ -',
      }),
    },
    { additionalProperties: false },
  ),
  minAgentVersion: Type.String({ pattern: SEMVER_PATTERN, description: 'x.y.z' }),
  metrics: Type.Record(
    Type.String({ maxLength: 64 }),
    Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE, description: 'a finite number' }),
    {
      maxProperties: MAX_METRICS,
      description: `an object of at most ${MAX_METRICS} numbers`,
    },
  ),
  rollback: Type.Boolean({ description: 'true or false' }),
  previousVersion: Type.Union([PositiveInt(), Type.Null()], { description: 'a version or null' }),
  keyId: Type.String({ pattern: '^[0-9a-f]{16}$', description: '16 hex characters' }),
};

/** The part of a manifest the signature covers. */
export const ReleaseManifestSchema = Type.Object(manifestFields, { additionalProperties: false });
export const SignedManifestSchema = Type.Object(
  {
    ...manifestFields,
    signature: Type.String({ minLength: 1, maxLength: 256, description: 'a base64 Ed25519 signature' }),
  },
  { additionalProperties: false },
);

export type ManifestFile = Static<typeof ManifestFileSchema>;
export type ReleaseManifest = Static<typeof ReleaseManifestSchema>;
export type SignedManifest = Static<typeof SignedManifestSchema>;

export const manifestContract = contract(
  'manifest',
  'A signed release manifest (retained on fleet/<channel>/manifest)',
  SignedManifestSchema,
);

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

/** A package file name that cannot escape the staging folder on any device. */
export function isSafeFileName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 200 && SAFE_FILE.test(name);
}
const SAFE_FILE = new RegExp(ManifestFileSchema.properties.name.pattern!);

export function isSemver(value: unknown): value is string {
  return typeof value === 'string' && SEMVER.test(value);
}
const SEMVER = new RegExp(SEMVER_PATTERN);

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
  const problems = manifestContract.problems(m);
  // What a schema cannot say: the chunk count follows from size and chunk size, and names are unique.
  const names = new Set<string>();
  if (Array.isArray(m.files)) {
    m.files.forEach((entry: unknown, i) => {
      const f = entry as Partial<ManifestFile> | null;
      if (f === null || typeof f !== 'object') return;
      if (typeof f.name === 'string') {
        if (names.has(f.name)) problems.push(`files[${i}].name ${f.name} is listed twice`);
        names.add(f.name);
      }
      if (typeof f.size === 'number' && Number.isSafeInteger(f.chunkSize) && f.chunkSize! >= 1) {
        const expected = Math.ceil(f.size / f.chunkSize!);
        if (f.chunks !== expected)
          problems.push(`files[${i}].chunks must be ceil(size / chunkSize) = ${expected}`);
      }
    });
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
