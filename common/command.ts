import { parseFlags, type Switch, settingsOf } from './flags.js';
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
  /** What follows `bookrec <path>` in the usage line: operands and required flags, e.g. 'DIR --channel C'. */
  usage: string;
  /**
   * The convict schema the command builds its settings from: its flags, their help, the env variables
   * and docs/cli.md all come from it, so a command lists only what it reads.
   */
  schema: object;
  /** Names of the operands (words that are not flags), all required, e.g. ['PACKAGE_DIR']. */
  operands?: string[];
  /** Flags that are not settings (e.g. --check-config). */
  switches?: Switch[];
  /** Command lines shown under the help, each a complete example. */
  examples: string[];
  /** `args`: the words after the command path (host flags such as --log-level removed). */
  run: (args: string[], ctx: CommandContext) => Promise<void>;
}

/** The operands of a command line (its words that are not flags or their values). */
export function operandsOf(command: Pick<Command, 'schema' | 'switches'>, args: string[]): string[] {
  return parseFlags(args, settingsOf(command.schema), command.switches).operands;
}
