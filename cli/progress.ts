import type { ProgressFactory } from '../common/progress.js';
import type { Screen } from './screen.js';

export interface TerminalProgressOptions {
  /** The screen the bar is drawn on, the one log lines and tables go through too. */
  screen: Screen;
  now?: () => number;
  /** Least time between two draws: the trainer's loops update thousands of times a second. */
  redrawMs?: number;
}

const BAR_CELLS = 40;

/**
 * Progress on a terminal: `label [████░░░░] 42% 21/50 eta 3s`, drawn as the screen's status line, so a
 * log line printed meanwhile goes above it instead of into it. A phase without a known total (a
 * download without a length) shows its count.
 */
export function terminalProgress(options: TerminalProgressOptions): ProgressFactory {
  const { screen } = options;
  const now = options.now ?? Date.now;
  const redrawMs = options.redrawMs ?? 100;
  return (label, total) => {
    const owner = {};
    const started = now();
    let shownAt = started;
    let done = 0;
    const draw = () => screen.showStatus(owner, barText(label, done, total, now() - started, screen.width));
    draw();
    return {
      update(value) {
        done = value;
        const t = now();
        if (t - shownAt < redrawMs) return;
        shownAt = t;
        draw();
      },
      finish() {
        draw();
        screen.endStatus(owner);
      },
    };
  };
}

/**
 * The bar's text after `elapsedMs`, the remaining time estimated from the pace so far; the bar narrows
 * (down to 10 cells) so the count and the ETA fit in `width`.
 */
export function barText(label: string, done: number, total: number, elapsedMs: number, width = 80): string {
  if (total <= 0) return `${label} ${done}`;
  const share = Math.min(1, Math.max(0, done / total));
  const eta = done <= 0 ? '?' : duration(((total - done) * elapsedMs) / done);
  const tail = `] ${Math.floor(share * 100)}% ${done}/${total} eta ${eta}`;
  const cells = Math.max(10, Math.min(BAR_CELLS, width - label.length - 2 - tail.length));
  const filled = Math.round(share * cells);
  return `${label} [${'\u2588'.repeat(filled)}${'\u2591'.repeat(cells - filled)}${tail}`;
}

/** 42s, 3m05s, 1h02m. */
function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
