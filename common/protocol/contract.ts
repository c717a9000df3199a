import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { BookrecError } from '../errors.js';

/**
 * One payload of the wire contract: a JSON Schema (TypeBox) from which the TypeScript type
 * (`Static<typeof schema>`), a compiled validator and the published docs/schemas/<name>.schema.json all
 * come, so the two ends of the wire, the docs and integrators cannot drift apart. Checks a schema cannot
 * say (a count that must fit another) stay in the module that owns the payload, after the schema's.
 */
export interface Contract<S extends TSchema> {
  /** File name under docs/schemas/ and the name docs examples are tagged with. */
  readonly name: string;
  readonly title: string;
  readonly schema: S;
  is(value: unknown): value is Static<S>;
  /**
   * Every problem in words: "keyId missing", "unknown field foo", "files[0].sha256 must be ...". `max`
   * stops after that many, for payloads from strangers (a request of 100,000 bad items).
   */
  problems(value: unknown, max?: number): string[];
  /** The value, typed; else a BookrecError with `code` listing every problem after "<what>: ". */
  check(value: unknown, code: string, what?: string): Static<S>;
}

export function contract<S extends TSchema>(name: string, title: string, schema: S): Contract<S> {
  const compiled = TypeCompiler.Compile(schema);
  const problems = (value: unknown, max = Number.POSITIVE_INFINITY): string[] => {
    if (compiled.Check(value)) return [];
    const out: string[] = [];
    const missing = new Set<string>();
    for (const error of compiled.Errors(value)) {
      if (out.length >= max) break;
      // A missing field is said once: not also "must be a string" for the same place.
      if (missing.has(error.path)) continue;
      if (error.type === ValueErrorType.ObjectRequiredProperty) missing.add(error.path);
      out.push(describeError(error));
    }
    return out.length > 0 ? out : ['does not match the schema'];
  };
  return {
    name,
    title,
    schema,
    is: (value): value is Static<S> => compiled.Check(value),
    problems,
    check(value, code, what = name) {
      if (compiled.Check(value)) return value;
      throw new BookrecError(code, `${what}: ${problems(value).join('; ')}`);
    },
  };
}

/** "/files/0/sha256" -> "files[0].sha256"; "" -> "the payload". */
export function fieldName(path: string): string {
  if (path === '') return 'the payload';
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function describeError(error: ValueError): string {
  const field = fieldName(error.path);
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `${field} missing`;
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return `unknown field ${field}`;
  const description = (error.schema as { description?: unknown }).description;
  if (typeof description === 'string') return `${field} must be ${description}`;
  return `${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
}

/** JSON from bytes, or undefined: for parsers that turn a bad payload into their own error or count. */
export function parseJsonBytes(payload: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) };
  } catch {
    return { ok: false };
  }
}
