import { BookrecError } from '../errors.js';
import type { PackageSource } from './packageSource.js';

/**
 * A package whose files are already in memory: fetched by a browser, received as a release, or held by a
 * test. `sha256` defaults to WebCrypto (browsers; Node has it as globalThis.crypto from version 19).
 */
export function bytesPackageSource(
  label: string,
  files: ReadonlyMap<string, Uint8Array>,
  sha256: (bytes: Uint8Array) => Promise<string> = webCryptoSha256,
): PackageSource {
  return {
    label,
    async read(name) {
      const bytes = files.get(name);
      if (bytes === undefined) throw new BookrecError('PACKAGE_MISSING_FILE', `${label}/${name} is missing`);
      return bytes;
    },
    sha256,
  };
}

/** Lowercase hex SHA-256 through WebCrypto. */
export async function webCryptoSha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new BookrecError('CRYPTO_UNAVAILABLE', 'WebCrypto (crypto.subtle) is not available here');
  // The DOM typings want an ArrayBuffer-backed view; files here never live in a SharedArrayBuffer.
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
