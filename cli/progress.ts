import cliProgress from 'cli-progress';
import type { ProgressFactory } from '../common/progress.js';

/** Progress on a terminal: a bar with the percentage, the count and an ETA, drawn on stderr. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFactory {
  return (label, total) => {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`, stream },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), finish: () => bar.stop() };
  };
}
