import { BookrecError } from '../errors.js';
import {
  checkLimits,
  DEFAULT_LIMITS,
  type ManifestLimits,
  type SignedManifest,
  unsignedPart,
  validateManifest,
} from './manifest.js';
import { signedText } from './signedBytes.js';

/**
 * The manifest checks of manifestCheck.ts for a browser: the same order and error codes, with the
 * Ed25519 signature verified by WebCrypto instead of node:crypto (which a page does not have). The reader's
 * phone uses it to trust a release before it downloads a byte of the package. No Node built-in here.
 */

// WebCrypto's types from the global (no DOM lib, and no node:crypto import in code that runs in a page).
type Subtle = typeof globalThis.crypto.subtle;
type PublicKey = Awaited<ReturnType<Subtle['importKey']>>;

/** Trusted public keys by key id, imported for WebCrypto. */
export type WebTrustedKeys = ReadonlyMap<string, PublicKey>;

function subtle(): Subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new BookrecError('CRYPTO_UNAVAILABLE', 'WebCrypto (crypto.subtle) is not available here');
  return s;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text.trim());
  } catch {
    throw new BookrecError('KEY_INVALID', 'public key is not base64');
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The raw base64 public keys (as `bookrec keys` prints them) imported, by key id (signing.ts keyIdOf). */
export async function webTrustedKeys(publicKeys: readonly string[]): Promise<WebTrustedKeys> {
  const keys = new Map<string, PublicKey>();
  for (const text of publicKeys) {
    const raw = fromBase64(text);
    if (raw.length !== 32) {
      throw new BookrecError('KEY_INVALID', `public key must be 32 bytes of base64, got ${raw.length} bytes`);
    }
    const keyId = hex(await subtle().digest('SHA-256', raw)).slice(0, 16);
    let key: PublicKey;
    try {
      key = await subtle().importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    } catch (err) {
      throw new BookrecError(
        'CRYPTO_UNAVAILABLE',
        `this browser cannot verify Ed25519 signatures (${(err as Error).message})`,
      );
    }
    keys.set(keyId, key);
  }
  return keys;
}

export interface WebManifestCheckOptions {
  keys: WebTrustedKeys;
  /** The channel expected; undefined: any channel the key signed. */
  channel?: string;
  limits?: ManifestLimits;
}

/** checkManifest() with WebCrypto: size, JSON, shape, key id, signature, channel, limits. */
export async function checkManifestWeb(
  payload: Uint8Array,
  options: WebManifestCheckOptions,
): Promise<SignedManifest> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (payload.length > limits.maxManifestBytes) {
    throw new BookrecError(
      'MANIFEST_TOO_LARGE',
      `manifest is ${payload.length} bytes, at most ${limits.maxManifestBytes} allowed`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new BookrecError('MANIFEST_JSON', `manifest is not valid JSON (${(err as Error).message})`);
  }
  const manifest = validateManifest(value);
  const key = options.keys.get(manifest.keyId);
  if (!key) {
    throw new BookrecError(
      'MANIFEST_UNKNOWN_KEY',
      `manifest signed by key ${manifest.keyId}, which this page does not trust (trusted: ${[...options.keys.keys()].join(', ') || 'none'})`,
    );
  }
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromBase64(manifest.signature);
  } catch {
    signature = new Uint8Array(0);
  }
  const data = new TextEncoder().encode(signedText(unsignedPart(manifest)));
  const ok =
    signature.length === 64 &&
    (await subtle()
      .verify({ name: 'Ed25519' }, key, signature, data)
      .catch(() => false));
  if (!ok) {
    throw new BookrecError(
      'MANIFEST_SIGNATURE',
      `manifest signature does not match its content for key ${manifest.keyId} (tampered or wrongly signed)`,
    );
  }
  if (options.channel !== undefined && manifest.channel !== options.channel) {
    throw new BookrecError(
      'MANIFEST_CHANNEL',
      `manifest is for channel ${manifest.channel}, this reader follows ${options.channel}`,
    );
  }
  checkLimits(manifest, limits);
  return manifest;
}
