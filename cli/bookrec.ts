#!/usr/bin/env node
import type { Command, CommandContext } from '../common/command.js';
import { errorMessage, isBookrecError } from '../common/errors.js';
import { parseFlags, settingsOf } from '../common/flags.js';
import { LOG_LEVELS, type LogLevel } from '../common/log.js';
import { nearest } from '../common/suggest.js';
import { COMMANDS, type CommandEntry } from './commands.js';
import { commandHelp, overview, usageLine } from './help.js';
import { hostContext, packageVersion } from './host.js';

/** What the host can change in the context once it has read the command line. */
export interface HostOptions {
  /** The logger (and log-line progress) at the level asked for; tests keep theirs. */
  atLevel?: (level: LogLevel) => Pick<CommandContext, 'log' | 'progress'>;
  /**
   * One command as a program of its own (the Debian package's `bookrec-agent` is `bookrec agent`): argv
   * starts after the command's path, and help, --version and messages use the program's name.
   */
  alias?: CommandAlias;
}

export interface CommandAlias {
  name: string;
  path: string[];
}

/** Exit codes (docs/cli.md): 0 done, 1 failed, 2 usage error. */
const USAGE = 2;

/** The longest registered command path that prefixes argv. */
function match(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: CommandEntry | undefined;
  for (const entry of COMMANDS) {
    if (entry.path.every((word, i) => argv[i] === word) && entry.path.length > (best?.path.length ?? 0))
      best = entry;
  }
  return best ? { entry: best, rest: argv.slice(best.path.length) } : undefined;
}

/** The options `bookrec` itself takes before any command. */
const HOST_OPTIONS: Record<string, string> = { version: '--version', help: '--help' };

/**
 * Why argv names no command, with the nearest one: for an option (`--verison`, `-v`), the nearest of
 * bookrec's own; for a group word (`data`), the nearest of its commands, or all of them.
 */
function unknownCommand(argv: string[]): string {
  if (argv[0]?.startsWith('-')) {
    const bare = argv[0].replace(/^-+/, '').split('=')[0];
    // -v: the lower-case spelling most tools use for the version (bookrec's short form is -V).
    const near = bare === 'v' ? 'version' : nearest(bare, Object.keys(HOST_OPTIONS));
    return `unknown option ${argv[0]}${near ? ` (did you mean ${HOST_OPTIONS[near]}?)` : ''}; bookrec --help lists the commands`;
  }
  const words = argv.filter((w) => !w.startsWith('-'));
  const inGroup = COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === words[0]);
  if (inGroup.length > 0) {
    const all = inGroup.map((c) => `bookrec ${c.path.join(' ')}`).join(', ');
    if (words[1] === undefined) return `"${words[0]}" needs a command: ${all}`;
    const near = nearest(
      words[1],
      inGroup.map((c) => c.path[1]),
    );
    return `unknown command "${words[0]} ${words[1]}"${near ? ` (did you mean "${words[0]} ${near}"?)` : ''}; the ${words[0]} commands: ${all}`;
  }
  const first = words[0] ?? argv[0];
  const near = nearest(first, [...new Set(COMMANDS.map((c) => c.path[0]))]);
  return `unknown command "${first}"${near ? ` (did you mean "${near}"?)` : ''}; bookrec --help lists the commands`;
}

/** Takes --log-level out of argv (before `--`): every command has it, none of them reads it. */
function takeLogLevel(argv: string[], env: NodeJS.ProcessEnv): { level: LogLevel; rest: string[] } {
  const rest: string[] = [];
  let given: { value: string; from: string } | undefined;
  if (env.BOOKREC_LOG_LEVEL) given = { value: env.BOOKREC_LOG_LEVEL, from: '$BOOKREC_LOG_LEVEL' };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (word === '--log-level' || word.startsWith('--log-level=')) {
      const value = word.includes('=') ? word.slice(word.indexOf('=') + 1) : argv[++i];
      if (value === undefined || value.startsWith('--'))
        throw usage(`--log-level needs a value (${LOG_LEVELS.join('|')})`);
      given = { value, from: '--log-level' };
      continue;
    }
    rest.push(word);
  }
  if (given && !(LOG_LEVELS as readonly string[]).includes(given.value)) {
    throw usage(`${given.from}: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(given.value)}`);
  }
  return { level: (given?.value as LogLevel | undefined) ?? 'info', rest };
}

class UsageError extends Error {}
const usage = (message: string) => new UsageError(message);

/** Usage problems found before the command runs: unknown or valueless flags, operand count. */
function checkCommandLine(command: Command, args: string[]): void {
  const { operands } = parseFlags(args, settingsOf(command.schema), command.switches);
  const want = command.operands ?? [];
  if (operands.length > want.length) {
    throw usage(`unexpected argument "${operands[want.length]}"`);
  }
  if (operands.length < want.length) throw usage(`missing ${want.slice(operands.length).join(' ')}`);
}

const wantsHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
};

/** Runs one command line; returns the exit code. Exported so tests run the CLI in-process. */
export async function main(argv: string[], ctx: CommandContext, host: HostOptions = {}): Promise<number> {
  const { alias } = host;
  if (alias && (argv[0] === '--version' || argv[0] === '-V')) {
    ctx.print(`${alias.name} ${packageVersion()}`);
    return 0;
  }
  if (alias) argv = [...alias.path, ...argv];
  const first = argv[0];
  if (first === undefined) {
    ctx.printError(overview(COMMANDS));
    return USAGE;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    ctx.print(overview(COMMANDS));
    return 0;
  }
  if (first === '--version' || first === '-V') {
    ctx.print(`bookrec ${packageVersion()}`);
    return 0;
  }
  const asked = first === 'help' ? argv.slice(1) : argv;
  const found = match(asked);
  let name = 'bookrec';
  try {
    if (!found) throw usage(unknownCommand(asked));
    name = alias?.name ?? `bookrec ${found.entry.path.join(' ')}`;
    const { default: command } = await found.entry.load();
    if (first === 'help' || wantsHelp(found.rest)) {
      ctx.print(commandHelp(command, alias?.name));
      return 0;
    }
    const { level, rest } = takeLogLevel(found.rest, ctx.env);
    try {
      checkCommandLine(command, rest);
    } catch (err) {
      if (isBookrecError(err) && err.code === 'USAGE') throw usage(err.message);
      throw err;
    }
    const run = { ...ctx, ...host.atLevel?.(level) };
    await command.run(rest, run);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (isBookrecError(err) && err.code === 'USAGE')) {
      // The one line, then how to call the command: a usage error is fixed on the command line.
      const how = found
        ? `usage: ${usageLine(await commandOf(found.entry), alias?.name)}; ${name} --help for every option`
        : '';
      ctx.printError(`${name}: ${err.message} [USAGE]${how ? `\n${how}` : ''}`);
      return USAGE;
    }
    // One line for a person; the code lets scripts tell failures apart.
    const code = isBookrecError(err) ? err.code : 'INTERNAL';
    ctx.printError(`${name}: ${errorMessage(err)} [${code}]`);
    if (!isBookrecError(err)) ctx.log.debug('stack', { stack: (err as Error).stack });
    return 1;
  }
}

async function commandOf(entry: CommandEntry): Promise<Command> {
  return (await entry.load()).default;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
const isBin = process.argv[1]?.endsWith('/bookrec') || process.argv[1]?.endsWith('/bookrec.js');
if (isEntry || isBin) {
  const { ctx, atLevel } = hostContext();
  main(process.argv.slice(2), ctx, { atLevel }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bookrec: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
