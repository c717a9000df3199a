import { readFileSync } from 'node:fs';
import convict from 'convict';
import { BookrecError } from './errors.js';

/**
 * Builds a validated settings object from one convict schema. Precedence: schema default < config file
 * < environment < command-line flags. env and argv are parameters, never read from the process here,
 * so tests drive every layer.
 */
export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Command-line flags after the subcommand, e.g. ['--data', 'dir', '--seed', '7']. */
  argv?: string[];
  /** A JSON config file; `--config FILE` in argv sets it too. */
  file?: string;
}

/** The command-line flag names a schema accepts (without the leading dashes). */
export function schemaFlags(schema: object): string[] {
  const flags: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    for (const value of Object.values(node)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      if ('default' in entry) {
        if (typeof entry.arg === 'string') flags.push(entry.arg);
      } else walk(entry);
    }
  };
  walk(schema as Record<string, unknown>);
  return flags;
}

/**
 * The format of every on/off setting: `format: BOOLEAN`. convict's own Boolean turns every string but
 * "false" into true, so `BOOKREC_HERMES=no` or `--signals-mqtt off` switched a feature on. This one maps
 * true/false, 1/0, yes/no, on/off (any case) and refuses anything else, naming the setting.
 */
export const BOOLEAN = 'bookrec-boolean';

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
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

/** A boolean setting's value from text, or undefined when the text is none of the accepted words. */
export function parseBooleanWord(text: string): boolean | undefined {
  const w = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(w)) return true;
  if (FALSE_WORDS.includes(w)) return false;
  return undefined;
}

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
  const argv = booleanFlagWords(schema, sources.argv ?? []);
  const file = sources.file ?? flagValue(argv, 'config');
  let config: convict.Config<T>;
  try {
    config = convict(schema, { env: sources.env ?? {}, args: argv });
    if (file) config.load(readConfigFile(file) as Record<string, unknown>);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw new BookrecError(
      'CONFIG_INVALID',
      `invalid configuration: ${nameSources(schema, (err as Error).message)}`,
      { cause: err },
    );
  }
  return config.getProperties();
}

interface SettingSource {
  arg?: string;
  env?: string;
  format?: unknown;
}

/** Every setting of a schema by its dotted key. */
function settings(schema: object): Map<string, SettingSource> {
  const out = new Map<string, SettingSource>();
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      const name = prefix ? `${prefix}.${key}` : key;
      if ('default' in entry) out.set(name, entry as SettingSource);
      else walk(entry, name);
    }
  };
  walk(schema as Record<string, unknown>, '');
  return out;
}

/**
 * convict's messages name a setting by its key ("hermes.enabled: ..."); people set it through a flag or
 * a variable, so each line also names those: "hermes.enabled (--hermes, BOOKREC_HERMES): ...".
 */
function nameSources(schema: object, message: string): string {
  const known = settings(schema);
  return message
    .split('\n')
    .map((line) => {
      const m = /^([A-Za-z0-9_.]+): /.exec(line);
      const s = m ? known.get(m[1]) : undefined;
      if (!m || !s) return line;
      const where = [s.arg ? `--${s.arg}` : '', s.env ?? ''].filter(Boolean).join(', ');
      return where ? `${m[1]} (${where}): ${line.slice(m[0].length)}` : line;
    })
    .join('\n');
}

/**
 * The flag parser under convict reads `--hermes 1` as the number 1, which no coerce sees; the words of a
 * boolean flag are turned into true/false here so that 1/0 mean what they say on the command line too.
 */
function booleanFlagWords(schema: object, argv: string[]): string[] {
  const flags = new Set(
    [...settings(schema).values()].filter((s) => s.format === BOOLEAN && s.arg).map((s) => s.arg),
  );
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const [name, inline] = out[i].startsWith('--') ? out[i].slice(2).split('=', 2) : [''];
    if (!flags.has(name)) continue;
    if (inline !== undefined) {
      const b = parseBooleanWord(inline);
      if (b !== undefined) out[i] = `--${name}=${b}`;
    } else if (i + 1 < out.length && !out[i + 1].startsWith('--')) {
      const b = parseBooleanWord(out[i + 1]);
      if (b !== undefined) out[++i] = String(b);
    }
  }
  return out;
}

/** Documentation of every setting: key, flag, environment variable, default and description. */
export function describeSchema(schema: object): string[] {
  const lines: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      const name = prefix ? `${prefix}.${key}` : key;
      if (!('default' in entry)) {
        walk(entry, name);
        continue;
      }
      const flag = typeof entry.arg === 'string' ? `--${entry.arg}` : '';
      const env = typeof entry.env === 'string' ? `$${entry.env}` : '';
      const shown = entry.sensitive ? '(secret)' : JSON.stringify(entry.default);
      lines.push(
        `  ${[flag, env].filter(Boolean).join(', ') || name}  ${entry.doc ?? ''} [${name}, default ${shown}]`,
      );
    }
  };
  walk(schema as Record<string, unknown>, '');
  return lines;
}

function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
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
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BookrecError('CONFIG_FILE', `config file ${file}: not valid JSON (${(err as Error).message})`);
  }
}
