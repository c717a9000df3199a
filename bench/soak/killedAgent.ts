import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import { cliPath } from './faults.js';

/**
 * One real `bookrec agent` process (the built CLI, as systemd runs it) that the soak SIGKILLs at chosen
 * moments and starts again on the same state directory. The moments are found from outside, the way an
 * observer with no hook inside the agent could: inotify on the state folder (a write's temp file or a
 * release's staging folder appearing) and the agent's own log lines on stderr. The kill is sent from the
 * watch callback, so it lands while that write is still going on; what it left on disk is recorded as
 * the evidence that it did.
 */
export type Trap = 'transfer' | 'staging' | 'snapshot' | 'position' | 'report' | 'any time';
export const TRAPS: readonly Trap[] = ['snapshot', 'staging', 'position', 'transfer', 'report', 'any time'];

/** What each trap waits for: a name appearing in a folder (relative to the state dir) or a log message. */
const TRIGGERS: Record<Exclude<Trap, 'any time'>, { folder?: string; name?: RegExp; logMsg?: string }> = {
  // writeFileAtomic's temp names: <file>.<pid>.<8 hex>.tmp (common/atomicFile.ts).
  snapshot: { folder: '.', name: /^history\.json\.\d+\.[0-9a-f]{8}\.tmp$/ },
  position: { folder: '.', name: /^signals\.pos\.\d+\.[0-9a-f]{8}\.tmp$/ },
  report: { folder: '.', name: /^updates\.json\.\d+\.[0-9a-f]{8}\.tmp$/ },
  // agent/modelStore.ts: a release is written into models/.staging-<version>-<hex> before the switch.
  staging: { folder: 'models', name: /^\.staging-/ },
  transfer: { logMsg: 'release download started' },
};

export interface KillRecord {
  device: string;
  trap: Trap;
  /** Whether the trap's moment came (else the agent was killed when the trap's wait ran out). */
  sprung: boolean;
  /** Unfinished writes found on disk right after the kill (temp files, staging folders). */
  leftovers: string[];
}

export interface KilledAgentOptions {
  id: string;
  stateDir: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export class KilledAgent {
  readonly id: string;
  readonly stateDir: string;
  /** Model versions this agent switched to (from its log), in order. */
  readonly switched: number[] = [];
  /** Files the agent said at start it removed (left by a killed write). */
  removedAtStart = 0;
  starts = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private connected = false;
  private lineWaiters: { msg: string; done: () => void }[] = [];
  private stderrTail = '';
  private readonly options: KilledAgentOptions;

  constructor(options: KilledAgentOptions) {
    this.options = options;
    this.id = options.id;
    this.stateDir = options.stateDir;
  }

  /** Starts the process; resolves once it logged that the broker connected (or fails after timeoutMs). */
  async start(timeoutMs: number): Promise<void> {
    if (this.child) throw new BookrecError('SOAK_AGENT', `${this.id} is already running`);
    this.connected = false;
    this.starts++;
    const child = spawn(process.execPath, [cliPath(), 'agent', ...this.options.args], {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) =>
      child.once('exit', () => {
        this.child = undefined;
        r();
      }),
    );
    let partial = '';
    child.stderr?.on('data', (d: Buffer) => {
      const text = partial + d.toString('utf8');
      const lines = text.split('\n');
      partial = (lines.pop() ?? '').slice(-10_000);
      for (const line of lines) this.onLine(line);
    });
    // A process that dies while starting (a bad flag, a broken build) fails the start at once.
    const died = this.exited.then(() => {
      throw new BookrecError('SOAK_AGENT', `${this.id} exited while starting: ${this.tail()}`);
    });
    await Promise.race([this.waitLog('broker connected', timeoutMs), died]);
    died.catch(() => undefined);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The last lines the agent wrote (for a failure message). */
  tail(): string {
    return this.stderrTail;
  }

  /**
   * Arms `trap` and SIGKILLs the agent when it springs, or after waitMs whatever it is doing. Resolves
   * once the process is gone, with what the kill interrupted.
   */
  async killAt(trap: Trap, waitMs: number): Promise<KillRecord> {
    const child = this.child;
    if (!child) throw new BookrecError('SOAK_AGENT', `${this.id} is not running`);
    let sprung = false;
    const kill = () => {
      child.kill('SIGKILL');
    };
    let watcher: FSWatcher | undefined;
    const trigger = trap === 'any time' ? undefined : TRIGGERS[trap];
    if (trigger?.folder) {
      watcher = watch(join(this.stateDir, trigger.folder), (_event, name) => {
        if (name && trigger.name?.test(name)) {
          sprung = true;
          kill();
        }
      });
      watcher.on('error', () => undefined);
    }
    if (trigger?.logMsg) {
      this.lineWaiters.push({
        msg: trigger.logMsg,
        done: () => {
          sprung = true;
          kill();
        },
      });
    }
    // "any time" has no moment to wait for: the random wait is its moment.
    const timer = setTimeout(() => {
      if (trap === 'any time') sprung = true;
      kill();
    }, waitMs);
    await this.exited;
    clearTimeout(timer);
    watcher?.close();
    this.lineWaiters = this.lineWaiters.filter((w) => w.msg !== trigger?.logMsg);
    return { device: this.id, trap, sprung, leftovers: await this.unfinishedWrites() };
  }

  /** A clean stop (SIGTERM: history flushed, "offline" published); SIGKILL if it takes over timeoutMs. */
  async stop(timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Temp files of atomic writes and release staging folders now in the state directory. */
  async unfinishedWrites(): Promise<string[]> {
    const names = async (dir: string) => readdir(join(this.stateDir, dir)).catch(() => [] as string[]);
    const top = (await names('.')).filter((n) => /\.\d+\.[0-9a-f]{8}\.tmp$/.test(n) || /\.tmp-/.test(n));
    const staging = (await names('models'))
      .filter((n) => n.startsWith('.staging-'))
      .map((n) => `models/${n}`);
    return [...top, ...staging];
  }

  private waitLog(msg: string, timeoutMs: number): Promise<void> {
    if (msg === 'broker connected' && this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
        reject(
          new BookrecError('SOAK_AGENT', `${this.id}: no "${msg}" within ${timeoutMs} ms: ${this.tail()}`),
        );
      }, timeoutMs);
      const waiter = {
        msg,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.lineWaiters.push(waiter);
    });
  }

  private onLine(line: string): void {
    this.stderrTail = `${this.stderrTail}${line}\n`.slice(-4000);
    let entry: { msg?: unknown; version?: unknown; count?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === 'broker connected') this.connected = true;
    if (entry.msg === 'model switched' && typeof entry.version === 'number')
      this.switched.push(entry.version);
    if (entry.msg === 'removed files a killed write left behind' && typeof entry.count === 'number')
      this.removedAtStart += entry.count;
    const matched = this.lineWaiters.filter((w) => w.msg === entry.msg);
    if (matched.length === 0) return;
    this.lineWaiters = this.lineWaiters.filter((w) => w.msg !== entry.msg);
    for (const w of matched) w.done();
  }
}
