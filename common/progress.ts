import type { Logger } from './log.js';

/**
 * Progress of long work. The command host decides how it is shown (a bar on a terminal, from cli/), so
 * the sides report progress without depending on a terminal library.
 */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

/** Makes a Progress for one phase: `label` names it, `total` is the count `update` goes towards. */
export type ProgressFactory = (label: string, total: number) => Progress;

export interface LogProgressOptions {
  log: Logger;
  /** Minimum time between log lines. */
  intervalMs?: number;
  now?: () => number;
}

/** Progress off a terminal: a plain log line at most every few seconds, and one when the phase ends. */
export function logProgress(options: LogProgressOptions): ProgressFactory {
  const { log } = options;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5000;
  return (label, total) => {
    const started = now();
    let last = started;
    return {
      update(done) {
        const t = now();
        if (t - last < interval) return;
        last = t;
        log.info(`${label}: ${done}/${total}`, { done, total, seconds: (t - started) / 1000 });
      },
      finish() {
        log.info(`${label}: done`, { total, seconds: (now() - started) / 1000 });
      },
    };
  };
}
