import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The operator token of the fleet dashboard: how strong it must be, and how a request's token is compared
 * with it. A guessable token hands rollout, rollback and forget (and, off loopback, the fleet view) to
 * whoever guesses it, so a weak one stops the start with the command that makes a good one.
 */
export const MIN_TOKEN_LENGTH = 32;
export const MIN_TOKEN_BITS = 128;
/** Fewer distinct characters than this is a pattern, not a random string ("aaaa...", "abab..."). */
const MIN_DISTINCT = 8;
export const MAKE_TOKEN = 'openssl rand -hex 32';

/** A rough upper bound of the token's entropy: its length times log2 of the alphabets it draws from. */
export function tokenBits(token: string): number {
  let alphabet = 0;
  if (/[0-9]/.test(token)) alphabet += 10;
  if (/[a-z]/.test(token)) alphabet += 26;
  if (/[A-Z]/.test(token)) alphabet += 26;
  if (/[^0-9a-zA-Z]/.test(token)) alphabet += 33;
  return alphabet > 1 ? Math.floor(token.length * Math.log2(alphabet)) : 0;
}

/** Why the token is too weak (never quoting it), or undefined when it will do. */
export function tokenWeakness(token: string): string | undefined {
  const length = [...token].length;
  const bits = tokenBits(token);
  const distinct = new Set(token).size;
  if (length >= MIN_TOKEN_LENGTH && bits >= MIN_TOKEN_BITS && distinct >= MIN_DISTINCT) return undefined;
  const why =
    length < MIN_TOKEN_LENGTH
      ? `${length} character${length === 1 ? '' : 's'}, at least ${MIN_TOKEN_LENGTH} needed`
      : distinct < MIN_DISTINCT
        ? `only ${distinct} different characters`
        : `about ${bits} bits, at least ${MIN_TOKEN_BITS} needed`;
  return `BOOKREC_FLEET_TOKEN is too weak (${why}): use a random one, e.g. BOOKREC_FLEET_TOKEN=$(${MAKE_TOKEN})`;
}

/** The token of an `Authorization: Bearer ...` header; empty when there is none. */
export function bearerToken(header: string | undefined): string {
  return /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time: both sides hashed to one length first, so neither length nor prefix leaks. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
