import { readFileSync } from 'node:fs';
import convict from 'convict';
import { BookrecError } from './errors.js';
import { parseBooleanWord, parseFlags, type Setting, settingsOf } from './flags.js';
import { parseJsonWithComments } from './jsonComments.js';

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
  try {
    config = convict(schema, { env: sources.env ?? {}, args: [] });
    if (file) config.load(ownKeys(readConfigFile(file), settings, sources.siblings ?? []));
    // Flags last: they beat the file and the environment. Already typed, so convict keeps them as given.
    for (const [key, value] of flags.values) config.set(key as convict.Path<T>, value as never);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw invalid(err as Error, settings, flags.values);
  }
  return config.getProperties();
}

/**
 * convict's problems, one per line as `key: problem: value was X`, said in the words the value came in:
 * `--percent (rollout.percent): ...` for a flag, the key for the environment or a config file. Only
 * flags wrong is a usage error (exit 2), fixed on the command line; otherwise the configuration is.
 */
function invalid(err: Error, settings: Setting[], fromFlags: Map<string, unknown>): BookrecError {
  const byKey = new Map(settings.map((s) => [s.key, s]));
  let elsewhere = false;
  const lines = err.message.split('\n').map((line) => {
    const m = /^([A-Za-z0-9_.]+): (.*?)(: value was .*)?$/s.exec(line);
    if (!m) {
      elsewhere = true;
      return line;
    }
    const [, key, problem, value] = m;
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
