import type { Command } from '../common/command.js';
import { placeholderOf, type Setting, settingsOf } from '../common/flags.js';
import type { CommandEntry } from './commands.js';

/**
 * What `bookrec --help` and `bookrec <command> --help` print, and docs/cli.md, all from the commands'
 * own declarations (path, usage, schema, switches, examples): nothing is written twice.
 */

/** Flags every command takes from the host. */
export const HOST_FLAGS = [
  {
    flag: '--config FILE',
    doc: 'read settings from a JSON file (nested keys as in docs/cli.md); the environment and flags beat it',
  },
  {
    flag: '--log-level debug|info|warn|error|silent',
    doc: 'how much is logged (to stderr: lines on a terminal, JSON otherwise) [default info, $BOOKREC_LOG_LEVEL]',
  },
  { flag: '-h, --help', doc: 'this help' },
];

export const EXIT_CODES =
  '0 done, 1 failed (the message says why, with a code), 2 usage error (command, flag or value)';

const GROUP_TITLES: Record<string, string> = {
  '': 'settings',
  broker: 'broker connection',
  embedded: 'listen',
};

/** `program`: the command run as a program of its own (bookrec-agent), in place of `bookrec <path>`. */
export function usageLine(command: Pick<Command, 'path' | 'usage'>, program?: string): string {
  return `${program ?? `bookrec ${command.path.join(' ')}`}${command.usage ? ` ${command.usage}` : ''} [options]`;
}

/** One command's help: usage, summary, its settings grouped, the host's flags, examples. */
export function commandHelp(command: Command, program?: string): string {
  const rows: [string, string][] = [];
  const lines: string[] = [`usage: ${usageLine(command, program)}`, '', command.summary];
  const groups = new Map<string, Setting[]>();
  for (const s of settingsOf(command.schema)) {
    if (!s.flag) continue;
    groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  }
  const sections: [string, [string, string][]][] = [];
  if (command.switches?.length) {
    sections.push([command.path.join(' '), command.switches.map((s) => [`--${s.name}`, s.doc])]);
  }
  for (const [group, settings] of groups) {
    sections.push([
      GROUP_TITLES[group] ?? group,
      settings.map((s) => [flagText(s), `${s.doc} ${details(s)}`]),
    ]);
  }
  const general = program ? [...HOST_FLAGS, { flag: '-V, --version', doc: 'print the version' }] : HOST_FLAGS;
  sections.push(['general', general.map((f) => [f.flag, f.doc])]);
  for (const [, r] of sections) rows.push(...r);
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)));
  for (const [title, r] of sections) {
    lines.push('', `${title}:`);
    for (const [flag, doc] of r) {
      lines.push(
        flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${doc}` : `  ${flag.padEnd(width)}  ${doc}`,
      );
    }
  }
  // The examples are written for bookrec; a program of its own is called by its name.
  const path = `bookrec ${command.path.join(' ')}`;
  const example = (e: string) =>
    program && e.startsWith(`${path} `) ? `${program}${e.slice(path.length)}` : e;
  lines.push('', 'examples:', ...command.examples.map((e) => `  ${example(e)}`));
  return lines.join('\n');
}

/** `bookrec --help`: the commands and what every command takes. */
export function overview(commands: CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'usage: bookrec <command> [options]        bookrec <command> --help: its options and examples',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'options of every command:',
    ...[...HOST_FLAGS, { flag: '--version', doc: 'print the version' }].map(
      (f) => `  ${f.flag}\n      ${f.doc}`,
    ),
    '',
    `exit codes: ${EXIT_CODES}`,
  ].join('\n');
}

export function flagText(s: Setting): string {
  return s.kind === 'boolean' ? `--${s.flag}, --no-${s.flag}` : `--${s.flag} ${placeholderOf(s)}`;
}

/**
 * What applies without the flag: `default X`, `secret` (a secret's default is never shown) or
 * `required` (its default is only a placeholder).
 */
export function defaultText(s: Setting): string {
  if (s.required) return 'required';
  if (s.sensitive) return 'secret';
  return `default ${s.default === '' ? 'none' : JSON.stringify(s.default)}`;
}

/** `[default X, $ENV]`, `[secret, $ENV]`, `[required]`. */
export function details(s: Setting): string {
  return `[${defaultText(s)}${s.env ? `, $${s.env}` : ''}]`;
}
