import { isIPv6 } from 'node:net';

/**
 * Wrong operator tokens per client address: after `maxFailures` within `windowMs` the address is
 * refused until its window ends, so guessing runs at a few tries a minute instead of thousands a second.
 * IPv6 clients count per /64 (one host owns a whole /64). Bounded: at most `maxAddresses` are kept;
 * expired ones go first, then the oldest.
 */
export interface GuessLimitOptions {
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
  now: () => number;
}

export const GUESS_LIMIT_DEFAULTS: GuessLimitOptions = {
  maxFailures: 10,
  windowMs: 60_000,
  maxAddresses: 10_000,
  now: Date.now,
};

/** The key an address is counted under: the address, or an IPv6 address's /64. */
export function addressKey(ip: string): string {
  const plain = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  if (!isIPv6(plain)) return plain;
  const [head, tail = ''] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = plain.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

export class GuessLimit {
  private readonly seen = new Map<string, { since: number; failures: number }>();
  private readonly options: GuessLimitOptions;

  constructor(options: Partial<GuessLimitOptions> = {}) {
    this.options = { ...GUESS_LIMIT_DEFAULTS, ...options };
  }

  /** Milliseconds until the address may try again; 0 when it may now. */
  blockedFor(ip: string): number {
    const entry = this.current(addressKey(ip));
    if (!entry || entry.failures < this.options.maxFailures) return 0;
    return entry.since + this.options.windowMs - this.options.now();
  }

  /** Counts a wrong token from the address; returns its failures in the current window. */
  fail(ip: string): number {
    const key = addressKey(ip);
    const entry = this.current(key) ?? { since: this.options.now(), failures: 0 };
    entry.failures++;
    this.seen.delete(key);
    this.seen.set(key, entry);
    this.bound();
    return entry.failures;
  }

  private current(key: string) {
    const entry = this.seen.get(key);
    if (entry && this.options.now() - entry.since >= this.options.windowMs) {
      this.seen.delete(key);
      return undefined;
    }
    return entry;
  }

  private bound(): void {
    if (this.seen.size <= this.options.maxAddresses) return;
    for (const key of [...this.seen.keys()]) this.current(key);
    for (const key of this.seen.keys()) {
      if (this.seen.size <= this.options.maxAddresses) break;
      this.seen.delete(key);
    }
  }
}
