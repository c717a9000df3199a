import { parsePublicKey } from './protocol/signing.js';

/** Setting formats more than one side's schema uses (the agent's, `bookrec serve`'s). */

/** The non-empty, trimmed entries of a comma-separated setting. */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Trusted release keys: comma-separated base64 Ed25519 public keys, each checked (convict format). */
export function publicKeyList(v: unknown): void {
  if (typeof v !== 'string') throw new Error('must be comma-separated base64 Ed25519 public keys');
  for (const [i, k] of splitList(v).entries()) {
    try {
      parsePublicKey(k);
    } catch (err) {
      throw new Error(`entry ${i} ${JSON.stringify(k.slice(0, 12))}...: ${(err as Error).message}`);
    }
  }
}
