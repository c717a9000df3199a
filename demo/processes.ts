import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BookrecError } from '../common/errors.js';

/**
 * The demo's child processes: every `bookrec` command it runs (train, keys, publish, the agents) is
 * the real CLI in a process of its own, started with spawn and an argument list (no shell ever sees a
 * path or a title). Output goes to a log file per process, so the terminal shows only the demo's own
 * lines and a failure can quote the log's tail. `stopAll` ends whatever is still running: SIGTERM (the
 * agents stop cleanly and publish "offline"), then SIGKILL after a grace period.
 */

/** The CLI entry point next to this module: dist/cli/bookrec.js when the demo runs from dist. */
export const BOOKREC_ENTRY = fileURLToPath(new URL('../cli/bookrec.js', import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or the signal's name) when the process has ended. */
  exited: Promise<number | string>;
}

export class Processes {
  private readonly live = new Set<Child>();
  private readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv) {
    this.env = env;
  }

  /** How many processes were started. */
  started = 0;

  /** How many started processes have not ended yet. */
  running(): number {
    return this.live.size;
  }

  /** Starts `bookrec ARGS`; stdout and stderr go to logFile. */
  start(name: string, args: string[], logFile: string): Child {
    const log = createWriteStream(logFile, { flags: 'w' });
    const proc = spawn(process.execPath, [BOOKREC_ENTRY, ...args], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    const child: Child = {
      name,
      process: proc,
      logFile,
      exited: new Promise((resolve) => {
        proc.once('error', (err) => {
          log.write(`spawn failed: ${err.message}\n`);
        });
        proc.once('close', (code, signal) => {
          this.live.delete(child);
          endLog(log).then(() => resolve(code ?? signal ?? 'unknown'));
        });
      }),
    };
    this.live.add(child);
    this.started++;
    return child;
  }

  /**
   * Runs `bookrec ARGS` to its end and returns its stdout. A non-zero exit is a DEMO_STEP_FAILED error
   * quoting the end of the log; an abort (Ctrl-C) stops the child and rejects.
   */
  async run(name: string, args: string[], logFile: string, signal: AbortSignal): Promise<string> {
    const child = this.start(name, args, logFile);
    let stdout = '';
    child.process.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    // bookrec commands end at their next abort check; training checks rarely, so it is killed after 2 s.
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.process.kill('SIGTERM');
      killTimer = setTimeout(() => child.process.kill('SIGKILL'), 2000);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const code = await child.exited;
      if (signal.aborted) throw new BookrecError('DEMO_ABORTED', `${name} stopped: the demo was interrupted`);
      if (code !== 0) {
        throw new BookrecError(
          'DEMO_STEP_FAILED',
          `${name} exited with ${code}; the end of its log (${logFile}):\n${await logTail(logFile)}`,
        );
      }
      return stdout;
    } finally {
      clearTimeout(killTimer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends every process still running: SIGTERM, then SIGKILL after graceMs. Never throws. */
  async stopAll(graceMs = 5000): Promise<void> {
    const children = [...this.live];
    for (const c of children) c.process.kill('SIGTERM');
    const all = Promise.all(children.map((c) => c.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    if ((await Promise.race([all, late])) === 'late') {
      // An agent that does not stop in time is killed: the demo promises to leave nothing running.
      for (const c of this.live) c.process.kill('SIGKILL');
      await all;
    }
    clearTimeout(timer);
  }
}

function endLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(() => resolve()));
}

/** The last lines of a log file, indented, for an error message. */
export async function logTail(file: string, lines = 12): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trimEnd();
    return text
      .split('\n')
      .slice(-lines)
      .map((l) => `  | ${l.length > 300 ? `${l.slice(0, 300)}...` : l}`)
      .join('\n');
  } catch {
    return '  | (no log)';
  }
}
