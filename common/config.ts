import { readFileSync } from 'node:fs';
import convict from 'convict';
import { BookrecError } from './errors.js';
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

export function buildConfig<T>(
  schema: convict.Schema<T>,
  sources: ConfigSources = {},
  formats: { name: string; validate: (value: unknown) => void }[] = [],
): T {
  for (const f of formats) convict.addFormat({ name: f.name, validate: f.validate, coerce: Number });
  const argv = sources.argv ?? [];
  const file = sources.file ?? flagValue(argv, 'config');
  let config: convict.Config<T>;
  try {
    config = convict(schema, { env: sources.env ?? {}, args: argv });
    if (file) config.load(readConfigFile(file) as Record<string, unknown>);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw new BookrecError('CONFIG_INVALID', `invalid configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return config.getProperties();
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
  return parseJsonWithComments(text, `config file ${file}`);
}
