import { BookrecError } from '../errors.js';
import {
  checkLimits,
  DEFAULT_LIMITS,
  type ManifestLimits,
  type SignedManifest,
  validateManifest,
} from './manifest.js';
import { type TrustedKeys, verifyManifest } from './signing.js';

export interface ManifestCheckOptions {
  keys: TrustedKeys;
  /** The channel the reader follows: a manifest signed for another channel is refused. */
  channel: string;
  limits?: ManifestLimits;
}

/**
 * Whether a refusal by checkManifest came after the signature verified: only then is anything in the
 * manifest (its version, its channel) known to come from the release key. A reader reports the other
 * refusals without believing a word of the manifest, and without letting them replace what it says about
 * real releases (anyone who can write the topic can send junk).
 */
export function refusedAfterSignature(code: string): boolean {
  return code === 'MANIFEST_CHANNEL' || code === 'RELEASE_TOO_LARGE';
}

/**
 * Everything a reader checks on a manifest payload before acting on it, cheapest first and nothing
 * allocated in proportion to what the manifest claims: byte size, JSON, shape, signature (key id, then
 * bytes), channel, then size limits. Throws a BookrecError whose code names the failed check.
 */
export function checkManifest(payload: Uint8Array, options: ManifestCheckOptions): SignedManifest {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (payload.length > limits.maxManifestBytes) {
    throw new BookrecError(
      'MANIFEST_TOO_LARGE',
      `manifest is ${payload.length} bytes, at most ${limits.maxManifestBytes} allowed`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (err) {
    throw new BookrecError('MANIFEST_JSON', `manifest is not valid JSON (${(err as Error).message})`);
  }
  const manifest = validateManifest(value);
  verifyManifest(manifest, options.keys);
  if (manifest.channel !== options.channel) {
    throw new BookrecError(
      'MANIFEST_CHANNEL',
      `manifest is for channel ${manifest.channel}, this reader follows ${options.channel}`,
    );
  }
  checkLimits(manifest, limits);
  return manifest;
}
