import { canonicalJson } from './canonical.js';
import type { ReleaseManifest } from './manifest.js';

/**
 * What a manifest signature covers, in one place for both verifiers (node:crypto on devices and servers,
 * WebCrypto in the reader's browser): a domain-separation prefix, so these bytes can never be confused
 * with another signed message of the project, then the canonical JSON of the unsigned manifest.
 */
export const SIGNING_CONTEXT = 'bookrec-manifest/1\n';

export function signedText(manifest: ReleaseManifest): string {
  return SIGNING_CONTEXT + canonicalJson(manifest);
}
