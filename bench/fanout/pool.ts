import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BookrecError } from '../../common/errors.js';
import type { DeviceFailure } from './device.js';
import type { FromWorker, ToWorker, Unfinished, WorkerPlan } from './messages.js';

/**
 * The bench's devices spread over worker processes (worker.ts): starts them, waits until every device is
 * connected, then until every device has verified the release or failed, and reads the workers' memory.
 */

export interface FleetResult {
  verified: number;
  /** When the last device verified (nowMs() clock), 0 if none did. */
  lastVerifiedAt: number;
  failed: DeviceFailure[];
  unfinished: Unfinished[];
}

export interface DevicePool {
  connected: number;
  connectFailed: DeviceFailure[];
  /** From the first connection attempt to the last device subscribed, slowest worker. */
  connectMs: number;
  /** Waits for every device's outcome; after timeoutMs the devices still waiting are listed instead. */
  results(timeoutMs: number): Promise<FleetResult>;
  /** Resident and peak resident memory of each worker process, KiB. */
  memoryKiB(): Promise<{ rss: number; peak: number }[]>;
  stop(): Promise<void>;
}

/** The compiled worker: beside this file in dist/, or in dist/ when this runs from the source tree. */
function workerScript(): string {
  for (const candidate of ['./worker.js', '../../dist/bench/fanout/worker.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new BookrecError('BUILD_MISSING', 'dist/bench/fanout/worker.js not found: run npm run build first');
}

export async function procMemoryKiB(pid: number | undefined): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Messages of one kind from a worker, or its exit as an error. */
function next<T extends FromWorker['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(m as Extract<FromWorker, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) => {
      child.off('message', onMessage);
      reject(new BookrecError('WORKER_EXIT', `fanout worker ${child.pid} exited (${code ?? signal})`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startPool(
  plan: Omit<WorkerPlan, 'ids'>,
  ids: string[],
  workers: number,
): Promise<DevicePool> {
  const script = workerScript();
  const children: ChildProcess[] = [];
  const count = Math.max(1, Math.min(workers, ids.length));
  const shares = Array.from({ length: count }, (_, w) => ids.filter((_, i) => i % count === w));
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (c.connected) c.disconnect();
            else c.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (const share of shares) {
      // execArgv empty: a worker must not inherit a test runner's loaders or inspector.
      const child = fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      child.send({ type: 'start', plan: { ...plan, ids: share } } satisfies ToWorker);
    }
    const connected = await Promise.all(children.map((c) => next(c, 'connected')));
    // Listening for the outcome from now on: a worker may report it right after connecting.
    const done = children.map((c) => next(c, 'done'));
    for (const d of done) d.catch(() => {});
    return {
      connected: connected.reduce((n, c) => n + c.connected, 0),
      connectFailed: connected.flatMap((c) => c.failed),
      connectMs: Math.max(...connected.map((c) => c.ms)),
      async results(timeoutMs) {
        const timer = setTimeout(() => {
          for (const c of children) if (c.connected) c.send({ type: 'finish' } satisfies ToWorker);
        }, timeoutMs);
        try {
          const all = await Promise.all(done);
          return {
            verified: all.reduce((n, d) => n + d.verified, 0),
            lastVerifiedAt: Math.max(...all.map((d) => d.lastVerifiedAt)),
            failed: all.flatMap((d) => d.failed),
            unfinished: all.flatMap((d) => d.unfinished),
          };
        } finally {
          clearTimeout(timer);
        }
      },
      memoryKiB: () => Promise.all(children.map((c) => procMemoryKiB(c.pid))),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
