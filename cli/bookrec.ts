#!/usr/bin/env node
import type { CommandContext } from '../common/command.js';
import { errorMessage, isBookrecError } from '../common/errors.js';
import { createLogger, type LogLevel } from '../common/log.js';
import { logProgress } from '../common/progress.js';
import { COMMANDS, type CommandEntry } from './commands.js';
import { terminalProgress } from './progress.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  const lines = COMMANDS.map((c) => `  bookrec ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'usage: bookrec <command> [options]   (bookrec <command> --help for its options)',
    '',
    ...lines,
  ].join('\n');
}

/** The longest registered command path that prefixes argv. */
function match(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: CommandEntry | undefined;
  for (const entry of COMMANDS) {
    if (entry.path.every((word, i) => argv[i] === word) && entry.path.length > (best?.path.length ?? 0))
      best = entry;
  }
  return best ? { entry: best, rest: argv.slice(best.path.length) } : undefined;
}

/** Runs one command line; returns the exit code. Exported so tests run the CLI in-process. */
export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    ctx.print(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const found = match(argv);
  if (!found) {
    ctx.print(`bookrec: unknown command "${argv.join(' ')}"\n\n${usage()}`);
    return 2;
  }
  const { default: command } = await found.entry.load();
  if (found.rest.includes('--help')) {
    ctx.print(command.help());
    return 0;
  }
  try {
    await command.run(found.rest, ctx);
    return 0;
  } catch (err) {
    // One line for a person; the code lets scripts tell failures apart.
    const code = isBookrecError(err) ? err.code : 'INTERNAL';
    ctx.printError(`bookrec ${found.entry.path.join(' ')}: ${errorMessage(err)} [${code}]`);
    if (!isBookrecError(err)) ctx.log.debug('stack', { stack: (err as Error).stack });
    return code === 'USAGE' ? 2 : 1;
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
const isBin = process.argv[1]?.endsWith('/bookrec') || process.argv[1]?.endsWith('/bookrec.js');
if (isEntry || isBin) {
  const level = (process.env.BOOKREC_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(sig)));
  const log = createLogger({ level, sink: (line) => process.stderr.write(`${line}\n`) });
  const interactive = Boolean(process.stderr.isTTY);
  const ctx: CommandContext = {
    env: process.env,
    log,
    print: (text) => process.stdout.write(`${text}\n`),
    printError: (text) => process.stderr.write(`${text}\n`),
    interactive,
    progress: interactive ? terminalProgress() : logProgress({ log }),
    signal: controller.signal,
  };
  main(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bookrec: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
