import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../common/config.js';
import { BookrecError } from '../common/errors.js';
import { trainerSchema } from '../trainer/config.js';

/** Settings of `bookrec demo` (one convict schema: defaults, validation, --help, the type). */
export interface DemoConfig {
  dataDir: string;
  seed: number;
  out: string;
  agents: number;
  count: number;
  reader: number;
  retrain: boolean;
  timeoutSeconds: number;
}

const range = (lo: number, hi: number) => (v: unknown) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new Error(`must be an integer ${lo}..${hi}, got ${JSON.stringify(v)}`);
};

export const demoSchema: convict.Schema<DemoConfig> = {
  dataDir: trainerSchema.dataDir,
  seed: trainerSchema.seed,
  out: {
    doc: 'Working folder: the trained package, keys, agent state and logs (kept for the next run)',
    format: String,
    default: 'out/demo',
    arg: 'out',
  },
  agents: {
    doc: 'Speaker agents to start, each its own process',
    format: range(1, 8),
    default: 3,
    arg: 'agents',
  },
  count: { doc: 'Books per recommendation', format: range(1, 10), default: 5, arg: 'count' },
  reader: {
    doc: 'goodbooks user_id of the held-out reader to replay (0: the first test reader with 25-50 books of history)',
    format: 'nat',
    default: 0,
    arg: 'reader',
  },
  retrain: {
    doc: 'Train again even if a valid package from an earlier run is there',
    format: BOOLEAN,
    default: false,
    arg: 'retrain',
  },
  timeoutSeconds: {
    doc: 'Longest wait for one step (agents installing, the answer to the button)',
    format: range(5, 600),
    default: 120,
    arg: 'timeout-seconds',
  },
};

export function demoConfig(sources: ConfigSources = {}): DemoConfig {
  return buildConfig(demoSchema, sources);
}

/** Whether the data folder holds what the demo reads. */
export function hasData(dataDir: string): boolean {
  return ['ratings.csv', 'books.csv'].every((f) => existsSync(join(resolve(dataDir), f)));
}

/**
 * The data folder, checked before anything starts: a missing one is the most likely first-run
 * problem, so the error says both ways to get it.
 */
export function checkDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  const missing = ['ratings.csv', 'books.csv'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new BookrecError(
      'DATA_MISSING',
      `the goodbooks-10k data is not at ${dir} (no ${missing.join(', ')}). Get it with ` +
        '"npx bookrec data fetch" (downloads it into data/goodbooks-10k, the default), or point ' +
        'BOOKREC_DATA_DIR or --data at a copy, e.g. BOOKREC_DATA_DIR=../shared/datasets/goodbooks-10k npm run demo',
    );
  }
  return dir;
}
