import { BookrecError } from './errors.js';
import type { Logger } from './log.js';
import type { ProgressFactory } from './progress.js';

/**
 * The command contract: what a subcommand is and what it gets from its host. It lives below the sides
 * (trainer/, deploy/, agent/, ...) so they never import cli/, which only registers commands and draws
 * the terminal. No globals, so tests run commands in-process.
 */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Human-facing output (tables, summaries): stdout in the CLI, a buffer in tests. */
  print: (text: string) => void;
  /** One-line failure reasons: stderr in the CLI. */
  printError: (text: string) => void;
  /** Whether stdout is a terminal (a screen to redraw) or a pipe/log (lines). */
  interactive: boolean;
  /** Progress of long phases: a bar on a terminal, periodic log lines otherwise (the host chooses). */
  progress: ProgressFactory;
  /** Aborted on SIGINT/SIGTERM: long work stops cleanly. */
  signal: AbortSignal;
}

export interface Command {
  /** Words after `bookrec`, e.g. ['data', 'fetch']. */
  path: string[];
  summary: string;
  /** Extra help text: usage line and settings. */
  help: () => string;
  /** Flags the command accepts beyond its schema's (without dashes). */
  flags?: string[];
  run: (args: string[], ctx: CommandContext) => Promise<void>;
}

/**
 * Rejects flags a command does not know, so a typo (`--dta`) fails with its name instead of silently
 * running on defaults. Returns the positional arguments.
 */
export function checkFlags(args: string[], allowed: string[], usage: string): string[] {
  const known = new Set([...allowed, 'config', 'help']);
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2);
    const bare = name.startsWith('no-') ? name.slice(3) : name;
    if (!known.has(name) && !known.has(bare)) {
      throw new BookrecError('USAGE', `unknown option --${name}; usage: ${usage}`);
    }
    // A flag's value is the next word unless given inline or the next word is another flag.
    if (inline === undefined && i + 1 < args.length && !args[i + 1].startsWith('--')) i++;
  }
  return positionals;
}
