import { readFileSync } from 'node:fs';
import convict from 'convict';
import { BookrecError } from './errors.js';
import { parseBooleanWord, parseFlags, type Setting, settingsOf } from './flags.js';
import { parseJsonWithComments } from './jsonComments.js';
import { nearest } from './suggest.js';

/**
 * Builds a validated settings object from one convict schema. Precedence: schema default < config file
 * < environment < command-line flags. env and argv are parameters, never read from the process here,
 * so tests drive every layer.
 */
export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Command-line flags after the subcommand, e.g. ['--data', 'dir', '--seed', '7']. */
  argv?: string[];
  /** A JSON config file (// and /* *\/ comments allowed); `--config FILE` in argv sets it too. */
  file?: string;
  /**
   * Schemas of sibling commands whose keys a shared config file may hold too (deploy's commands share
   * one file): those keys are skipped, any other unknown key is still an error.
   */
  siblings?: object[];
}

/**
 * The format of every on/off setting: `format: BOOLEAN`. convict's own Boolean turns every string but
 * "false" into true, so `BOOKREC_HERMES=no` or `--signals-mqtt off` switched a feature on. This one maps
 * true/false, 1/0, yes/no, on/off (any case) and refuses anything else, naming the setting.
 */
export const BOOLEAN = 'bookrec-boolean';

/** Near misses worth a "did you mean". */
const NEAR: Record<string, boolean> = {
  y: true,
  t: true,
  ture: true,
  enable: true,
  enabled: true,
  n: false,
  f: false,
  flase: false,
  fasle: false,
  disable: false,
  disabled: false,
  none: false,
};

convict.addFormat({
  name: BOOLEAN,
  validate(value: unknown) {
    if (typeof value === 'boolean') return;
    const near = typeof value === 'string' ? NEAR[value.trim().toLowerCase()] : undefined;
    throw new Error(
      `must be true or false (also 1/0, yes/no, on/off${near === undefined ? '' : `; did you mean ${near}?`})`,
    );
  },
  // Strings from the environment, flags and files; anything unknown stays as it is and fails validate.
  coerce: (value: unknown) => (typeof value === 'string' ? (parseBooleanWord(value) ?? value) : value),
});

export function buildConfig<T>(
  schema: convict.Schema<T>,
  sources: ConfigSources = {},
  formats: { name: string; validate: (value: unknown) => void }[] = [],
): T {
  for (const f of formats) convict.addFormat({ name: f.name, validate: f.validate, coerce: Number });
  const settings = settingsOf(schema);
  // Operands (a package folder, a device id) are the command's; only flags are settings.
  const flags = parseFlags(sources.argv ?? [], settings);
  const file = sources.file ?? flags.configFile;
  let config: convict.Config<T>;
  // What the file and the environment said, before convict turned "three" into NaN for a number.
  const given = new Map<string, unknown>();
  try {
    config = convict(schema, { env: sources.env ?? {}, args: [] });
    if (file) {
      const own = ownKeys(readConfigFile(file), settings, sources.siblings ?? []);
      for (const s of settings) {
        const v = valueAt(own, s.key);
        if (v !== undefined) given.set(s.key, v);
      }
      config.load(own);
    }
    for (const s of settings) {
      const v = s.env ? sources.env?.[s.env] : undefined;
      if (v !== undefined) given.set(s.key, v);
    }
    // Flags last: they beat the file and the environment. Already typed, so convict keeps them as given.
    for (const [key, value] of flags.values) config.set(key as convict.Path<T>, value as never);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw invalid(err as Error, settings, flags.values, given);
  }
  return config.getProperties();
}

/** The value at a dotted key of a parsed config file, if any. */
function valueAt(value: unknown, key: string): unknown {
  let node = value;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * convict's complaint about a key no schema has, with a suggestion for the first word of its path that
 * is wrong (`homeassitant.enabled`: homeassistant), among the names at that level.
 */
function unknownKey(line: string, settings: Setting[]): string | undefined {
  const m = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
  if (!m) return undefined;
  const known = new Set(
    settings.flatMap((s) => s.key.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))),
  );
  const parts = m[1].split('.');
  const at = Math.max(
    0,
    parts.findIndex((_, i) => !known.has(parts.slice(0, i + 1).join('.'))),
  );
  const parent = parts.slice(0, at).join('.');
  const siblings = [...known]
    .filter((k) => (parent ? k.startsWith(`${parent}.`) : true) && k.split('.').length === at + 1)
    .map((k) => k.split('.')[at]);
  const near = nearest(parts[at], siblings);
  const wrong = parts.slice(0, at + 1).join('.');
  return `${m[1]}: ${wrong === m[1] ? '' : `${wrong} is `}not a setting${near ? ` (did you mean ${parent ? `${parent}.` : ''}${near}?)` : ''}`;
}

/**
 * convict's problems, one per line as `key: problem: value was X`, said in the words the value came in:
 * `--percent (rollout.percent): ...` for a flag, the key for the environment or a config file. Only
 * flags wrong is a usage error (exit 2), fixed on the command line; otherwise the configuration is.
 */
function invalid(
  err: Error,
  settings: Setting[],
  fromFlags: Map<string, unknown>,
  given: Map<string, unknown>,
): BookrecError {
  const byKey = new Map(settings.map((s) => [s.key, s]));
  let elsewhere = false;
  const lines = err.message.split('\n').map((line) => {
    const m = /^([A-Za-z0-9_.]+): (.*?)(: value was .*)?$/s.exec(line);
    if (!m) {
      elsewhere = true;
      return unknownKey(line, settings) ?? line;
    }
    const key = m[1];
    let problem = m[2];
    let value = m[3];
    // A number setting given text: convict hands the check NaN, which prints as null.
    const raw = given.get(key);
    if (typeof raw === 'string' && byKey.get(key)?.kind === 'number' && !fromFlags.has(key)) {
      problem = problem.replace(/got null$/, `got ${JSON.stringify(raw)}`);
      if (value === ': value was NaN') value = `: value was ${JSON.stringify(raw)}`;
    }
    const says = /\bgot\b/.test(problem);
    const setting = byKey.get(key);
    const flag = setting?.flag;
    if (!flag || !fromFlags.has(key)) {
      elsewhere = true;
      // Set through a file or a variable: the key is the file's name for it; the flag and variable say where else.
      const where = [flag ? `--${flag}` : '', setting?.env ?? ''].filter(Boolean).join(', ');
      return `${key}${where ? ` (${where})` : ''}: ${problem}${says ? '' : (value ?? '')}`;
    }
    return `--${flag} (${key}): ${problem}${says ? '' : `, got ${JSON.stringify(fromFlags.get(key))}`}`;
  });
  return elsewhere
    ? new BookrecError('CONFIG_INVALID', `invalid configuration: ${lines.join('; ')}`, { cause: err })
    : new BookrecError('USAGE', lines.join('; '), { cause: err });
}

/** The file's settings without the keys only sibling commands have. */
function ownKeys(value: unknown, settings: Setting[], siblings: object[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return value as Record<string, unknown>;
  const mine = new Set(settings.map((s) => s.key));
  const theirs = new Set(siblings.flatMap((s) => settingsOf(s).map((x) => x.key)));
  const strip = (node: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (theirs.has(key) && !mine.has(key)) continue;
      const nested = v !== null && typeof v === 'object' && !Array.isArray(v) && !mine.has(key);
      if (!nested) {
        out[k] = v;
        continue;
      }
      const kept = strip(v as Record<string, unknown>, key);
      // A group only siblings have (fleet: {...} in publish's eyes) goes with its keys.
      if (Object.keys(kept).length > 0 || Object.keys(v as object).length === 0) out[k] = kept;
    }
    return out;
  };
  return strip(value as Record<string, unknown>, '');
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BookrecError(
      'CONFIG_FILE',
      `config file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  return parseJsonWithComments(text, `config file ${file}`);
}
