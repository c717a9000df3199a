import { BookrecError } from '../errors.js';

/**
 * Strict reading of JSON objects from package files (manifest, encoding, catalogue): a missing field, a
 * wrong type or an unknown field is an error whose message names the file and the field path, so a bad
 * package says what is wrong instead of failing later on `undefined`.
 */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface NumberRule {
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
}

export class StrictObject {
  private readonly seen = new Set<string>();

  private constructor(
    private readonly value: Record<string, unknown>,
    readonly file: string,
    readonly path: string,
    private readonly code: string,
  ) {}

  /** `value` must be an object; `path` names it inside `file` ('' for the top level). */
  static of(value: unknown, file: string, path: string, code: string): StrictObject {
    if (!isJsonObject(value)) {
      throw new BookrecError(code, `${file}: ${path === '' ? 'the content' : path} must be a JSON object`);
    }
    return new StrictObject(value, file, path, code);
  }

  fail(key: string, message: string): BookrecError {
    return new BookrecError(this.code, `${this.file}: ${this.name(key)} ${message}`);
  }

  name(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.value, key);
  }

  raw(key: string): unknown {
    this.seen.add(key);
    if (!this.has(key)) throw this.fail(key, 'is missing');
    return this.value[key];
  }

  string(key: string, nonEmpty = false): string {
    const v = this.raw(key);
    if (typeof v !== 'string') throw this.fail(key, `must be a string, not ${describe(v)}`);
    if (nonEmpty && v === '') throw this.fail(key, 'must not be empty');
    return v;
  }

  number(key: string, rule: NumberRule = {}): number {
    return checkNumber(this.raw(key), rule, (m) => this.fail(key, m));
  }

  nullableNumber(key: string, rule: NumberRule = {}): number | null {
    const v = this.raw(key);
    return v === null ? null : checkNumber(v, rule, (m) => this.fail(key, `${m} or null`));
  }

  array(key: string): unknown[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) throw this.fail(key, `must be an array, not ${describe(v)}`);
    return v;
  }

  object(key: string): StrictObject {
    return StrictObject.of(this.raw(key), this.file, this.name(key), this.code);
  }

  /** Every key of the object, for free-form maps (metrics, params). */
  keys(): string[] {
    const keys = Object.keys(this.value);
    for (const k of keys) this.seen.add(k);
    return keys;
  }

  /** Rejects fields nobody read: a typo or a newer writer's field must not pass silently. */
  end(): void {
    const unknown = Object.keys(this.value).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) throw this.fail(unknown[0], 'is not a known field');
  }
}

export function checkNumber(v: unknown, rule: NumberRule, fail: (message: string) => BookrecError): number {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`must be ${kind}, not ${describe(v)}`);
  if (rule.integer && !Number.isInteger(v)) throw fail(`must be ${kind}, not ${v}`);
  if (rule.min !== undefined && v < rule.min) throw fail(`must be ${kind} >= ${rule.min}, not ${v}`);
  if (rule.above !== undefined && v <= rule.above) throw fail(`must be ${kind} > ${rule.above}, not ${v}`);
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}
