import cliProgress from 'cli-progress';
import type { Logger } from '../common/log.js';

/** Progress of long work: a bar on a terminal, a plain log line every few seconds otherwise. */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  interactive: boolean;
  log: Logger;
  /** Minimum time between log lines off a terminal. */
  intervalMs?: number;
  now?: () => number;
}

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, log } = options;
  if (options.interactive) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), finish: () => bar.stop() };
  }
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5000;
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
}
