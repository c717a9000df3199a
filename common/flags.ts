import { BookrecError } from './errors.js';
import { nearest } from './suggest.js';

/**
 * The command line of one command, read from its convict schema: every setting with an `arg` is a flag,
 * typed by its default (a boolean default makes a switch, a number default a number). One reader for
 * the CLI host (usage errors before anything runs, help, docs/cli.md) and for buildConfig, so a flag
 * means the same everywhere.
 */
export interface Setting {
  /** Dotted schema key, e.g. rollout.percent: the name in a config file. */
  key: string;
  /** Flag without dashes, when the setting has one. */
  flag?: string;
  env?: string;
  doc: string;
  default: unknown;
  kind: 'boolean' | 'number' | 'string';
  /** The allowed values when the format is a list. */
  choices?: string[];
  sensitive: boolean;
  /**
   * The command needs it given (`required: true` in the schema, beside a default no value takes): help
   * says required instead of showing that placeholder default.
   */
  required: boolean;
  /** The enclosing schema object (broker, rollout, ...); '' for top-level settings. */
  group: string;
}

/** A flag that is not a setting (e.g. the agent's --check-config): a switch, never in a config file. */
export interface Switch {
  name: string;
  doc: string;
}

export interface ParsedFlags {
  /** Setting key -> value given on the command line, typed as the setting is. */
  values: Map<string, string | number | boolean>;
  switches: Set<string>;
  /** Words that are not flags or their values, in order. */
  operands: string[];
  /** --config FILE. */
  configFile?: string;
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** An on/off value from text (true/false, 1/0, yes/no, on/off, any case), or undefined for any other text. */
export function parseBooleanWord(text: string): boolean | undefined {
  const w = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(w)) return true;
  if (FALSE_WORDS.includes(w)) return false;
  return undefined;
}

/** Flags every command has besides its settings. */
export const CONFIG_FLAG = 'config';

export function settingsOf(schema: object): Setting[] {
  const settings: Setting[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      const key = prefix ? `${prefix}.${name}` : name;
      if (!('default' in entry)) {
        walk(entry, key);
        continue;
      }
      const kind =
        typeof entry.default === 'boolean'
          ? 'boolean'
          : typeof entry.default === 'number'
            ? 'number'
            : 'string';
      settings.push({
        key,
        flag: typeof entry.arg === 'string' ? entry.arg : undefined,
        env: typeof entry.env === 'string' ? entry.env : undefined,
        doc: typeof entry.doc === 'string' ? entry.doc : '',
        default: entry.default,
        kind,
        choices: Array.isArray(entry.format) ? entry.format.map(String) : undefined,
        sensitive: entry.sensitive === true,
        required: entry.required === true,
        group: prefix.split('.')[0],
      });
    }
  };
  walk(schema as Record<string, unknown>, '');
  return settings;
}

/**
 * Reads argv: `--name value`, `--name=value`, switches as `--name`, `--no-name` or `--name=true|false`,
 * `--` ends the flags. Throws USAGE naming the flag for an unknown flag (with the nearest known one), a
 * missing value, a number that is not one, or a switch given another value.
 */
export function parseFlags(argv: string[], settings: Setting[], switches: Switch[] = []): ParsedFlags {
  const byFlag = new Map(settings.filter((s) => s.flag).map((s) => [s.flag as string, s]));
  const switchNames = new Set(switches.map((s) => s.name));
  const parsed: ParsedFlags = { values: new Map(), switches: new Set(), operands: [] };
  const known = [...byFlag.keys(), ...switchNames, CONFIG_FLAG];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      parsed.operands.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) {
      parsed.operands.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(word.startsWith('--') ? 2 : 1, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : word.slice(eq + 1);
    const takeValue = (placeholder: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new BookrecError('USAGE', `--${name} needs a value (--${name} ${placeholder})`);
      }
      i++;
      return next;
    };
    if (!word.startsWith('--')) throw unknownFlag(word, known);
    if (name === CONFIG_FLAG) {
      parsed.configFile = takeValue('FILE');
      continue;
    }
    const direct = byFlag.get(name);
    const negated = !direct && name.startsWith('no-') ? byFlag.get(name.slice(3)) : undefined;
    if (switchNames.has(name) || direct?.kind === 'boolean' || negated?.kind === 'boolean') {
      // `--hermes no` as well as `--hermes=no`: the next word is the switch's when it is an on/off word.
      const next = argv[i + 1];
      const spelled =
        inline === undefined && !negated && next !== undefined && parseBooleanWord(next) !== undefined;
      if (spelled) i++;
      const value = switchValue(negated ? name.slice(3) : name, !negated, spelled ? next : inline);
      const setting = direct ?? negated;
      if (setting) parsed.values.set(setting.key, value);
      else if (value) parsed.switches.add(name);
      continue;
    }
    if (!direct) throw unknownFlag(`--${name}`, known);
    const setting = direct;
    const text = takeValue(placeholderOf(setting));
    if (setting.kind === 'number') {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(n))
        throw new BookrecError('USAGE', `--${name}: ${JSON.stringify(text)} is not a number`);
      parsed.values.set(setting.key, n);
    } else parsed.values.set(setting.key, text);
  }
  return parsed;
}

function switchValue(name: string, positive: boolean, inline: string | undefined): boolean {
  if (inline === undefined) return positive;
  const word = positive ? parseBooleanWord(inline) : undefined;
  if (word !== undefined) return word;
  throw new BookrecError(
    'USAGE',
    `--${name} is a switch: give --${name} or --no-${name} (or --${name}=true/false, 1/0, yes/no, on/off), not ${positive ? `--${name}` : `--no-${name}`}=${inline}`,
  );
}

function unknownFlag(word: string, known: string[]): BookrecError {
  const bare = word.replace(/^-+/, '').split('=')[0];
  const near = nearest(bare, known);
  return new BookrecError(
    'USAGE',
    `unknown option ${word.split('=')[0]}${near ? ` (did you mean --${near}?)` : ''}`,
  );
}

/** What the help and error messages show for a flag's value: its choices, N, DIR, FILE, URL or its last word. */
export function placeholderOf(setting: Setting): string {
  if (setting.choices) return setting.choices.join('|');
  if (setting.kind === 'number') return 'N';
  const name = setting.flag ?? setting.key;
  const word = /(?:^|-)(?:dir|data|out|cache|from)$/.test(name)
    ? 'dir'
    : /(?:file|^ca|^cert|key|metrics)$/.test(name)
      ? 'file'
      : /(?:broker|url)$/.test(name)
        ? 'url'
        : name.split(/[-.]/).pop();
  return (word ?? name).toUpperCase();
}
