import { fstatSync } from 'node:fs';
import { agentVersion } from '../agent/version.js';
import type { CommandContext } from '../common/command.js';
import { createLogger, type LogLevel } from '../common/log.js';
import { escapeControls } from '../common/logText.js';
import { logProgress } from '../common/progress.js';
import { terminalProgress } from './progress.js';
import { Screen } from './screen.js';

/** The project's version (package.json), for --version. */
export const packageVersion = agentVersion;

/**
 * Whether a file descriptor is connected to the journal: systemd sets JOURNAL_STREAM to the
 * `device:inode` of the stream it hands a service, and a child redirecting it elsewhere keeps the
 * variable, so the stream itself is compared.
 */
export function onJournal(env: NodeJS.ProcessEnv, fd: number): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]) && st.ino === BigInt(m[2]);
  } catch {
    return false;
  }
}

/** How log lines look on a stream: readable on a terminal, JSON elsewhere, priorities for the journal. */
export function logStyle(
  env: NodeJS.ProcessEnv,
  stream: { isTTY?: boolean; fd?: number },
): { format: 'json' | 'text'; priorities: boolean } {
  const journal = stream.fd !== undefined && onJournal(env, stream.fd);
  return { format: stream.isTTY && !journal ? 'text' : 'json', priorities: journal };
}

/** The context of a real process: stdout, stderr, signals; the logger is made once the level is known. */
export function hostContext(): {
  ctx: CommandContext;
  atLevel: (level: LogLevel) => Pick<CommandContext, 'log' | 'progress'>;
} {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort(new Error(sig)));
  const style = logStyle(process.env, { isTTY: process.stderr.isTTY, fd: 2 });
  // Every line goes through the screen, so none lands inside a progress bar.
  const screen = new Screen(process.stderr, process.stdout);
  const logger = (level: LogLevel) => createLogger({ level, ...style, sink: (line) => screen.errLine(line) });
  // The bar is drawn on stderr, so stderr decides; elsewhere progress is log lines at the log's level.
  const atLevel = (level: LogLevel) => {
    const log = logger(level);
    return { log, progress: process.stderr.isTTY ? terminalProgress({ screen }) : logProgress({ log }) };
  };
  const ctx: CommandContext = {
    ...atLevel('info'),
    env: process.env,
    print: (text) => screen.outLine(text),
    printError: (text) => {
      screen.release();
      // A failure can quote what a device or a file said: its lines stay, its control characters do not.
      screen.errLine(text.split('\n').map(escapeControls).join('\n'));
    },
    interactive: Boolean(process.stdout.isTTY),
    signal: controller.signal,
  };
  return { ctx, atLevel };
}
