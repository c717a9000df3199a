import { writeFileAtomic } from '../../common/atomicFile.js';
import type { ModelResult } from './evaluate.js';
import { METRIC_NAMES } from './metrics.js';

/** The one results format of docs/evaluation.md, written by `evaluate` and by `train`'s report. */
export interface Results {
  dataset: string;
  seed: number;
  split: { trainUsers: number; validationUsers: number; testUsers: number };
  models: ModelResult[];
  seconds: number;
}

export async function writeResults(file: string, results: Results): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
}

const fmt = (v: number) => v.toFixed(4);
const human = (n: number | null) =>
  n === null
    ? '-'
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)}M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(0)}k`
        : String(n);

/** A Markdown table of every model's metrics, size and latency. */
export function resultsTable(results: Results): string {
  const head = ['model', 'params', 'bytes', ...METRIC_NAMES, 'p50 ms', 'p99 ms'];
  const rows = results.models.map((m) => [
    m.name,
    human(m.params),
    human(m.bytes),
    ...METRIC_NAMES.map((k) => fmt(m.metrics[k])),
    m.latencyMs.p50.toFixed(2),
    m.latencyMs.p99.toFixed(2),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
