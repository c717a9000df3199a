import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { BookrecError } from '../errors.js';
import type { ReleaseManifest, SignedManifest } from './manifest.js';
import { unsignedPart } from './manifest.js';
import { signedText } from './signedBytes.js';

/**
 * Ed25519 signatures over a manifest's canonical form (node:crypto, no dependency). A device trusts a
 * short list of public keys, found by key id, so a key can be rotated by shipping the new public key
 * to devices before the first release signed with it.
 */

/** Trusted public keys by key id. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface KeyPair {
  privateKeyPem: string;
  /** Raw 32-byte public key, base64: what devices are configured with. */
  publicKey: string;
  keyId: string;
}

export function generateSigningKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: raw.toString('base64'),
    keyId: keyIdOf(raw),
  };
}

/** The key id: the first 8 bytes of sha256 of the raw public key, hex. */
export function keyIdOf(rawKey: Buffer): string {
  return createHash('sha256').update(rawKey).digest('hex').slice(0, 16);
}

export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new BookrecError('KEY_INVALID', 'not an Ed25519 key');
  }
  return Buffer.from(jwk.x, 'base64url');
}

/** A private key from PEM, checked to be Ed25519. */
export function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new BookrecError('KEY_INVALID', `private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new BookrecError('KEY_INVALID', `private key is ${key.asymmetricKeyType}, not ed25519`);
  }
  return key;
}

/** A public key from its raw base64 form (as `bookrec keys` prints it). */
export function parsePublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 32) {
    throw new BookrecError('KEY_INVALID', `public key must be 32 bytes of base64, got ${raw.length} bytes`);
  }
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

export function trustedKeys(publicKeys: readonly string[]): TrustedKeys {
  const keys = new Map<string, KeyObject>();
  for (const text of publicKeys) {
    const key = parsePublicKey(text);
    keys.set(keyIdOf(rawPublicKey(key)), key);
  }
  return keys;
}

/** The bytes a signature covers. */
export function signedBytes(manifest: ReleaseManifest): Buffer {
  return Buffer.from(signedText(manifest), 'utf8');
}

/** Signs a manifest; its keyId is set from the key so the two cannot disagree. */
export function signManifest(
  manifest: Omit<ReleaseManifest, 'keyId'>,
  privateKey: KeyObject,
): SignedManifest {
  const keyId = keyIdOf(rawPublicKey(createPublicKey(privateKey)));
  const body: ReleaseManifest = { ...manifest, keyId };
  const signature = sign(null, signedBytes(body), privateKey).toString('base64');
  return { ...body, signature };
}

/**
 * Throws MANIFEST_UNKNOWN_KEY when no trusted key has the manifest's key id, MANIFEST_SIGNATURE when the
 * signature does not match its content.
 */
export function verifyManifest(manifest: SignedManifest, keys: TrustedKeys): void {
  const key = keys.get(manifest.keyId);
  if (!key) {
    throw new BookrecError(
      'MANIFEST_UNKNOWN_KEY',
      `manifest signed by key ${manifest.keyId}, which this device does not trust (trusted: ${[...keys.keys()].join(', ') || 'none'})`,
    );
  }
  const signature = Buffer.from(manifest.signature, 'base64');
  let ok = false;
  try {
    ok = signature.length === 64 && verify(null, signedBytes(unsignedPart(manifest)), key, signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new BookrecError(
      'MANIFEST_SIGNATURE',
      `manifest signature does not match its content for key ${manifest.keyId} (tampered or wrongly signed)`,
    );
  }
}
