import type convict from 'convict';
import { buildConfig, type ConfigSources } from '../common/config.js';

/** The one schema of the trainer's settings: defaults, validation, docs (--help) and type. */
export interface TrainerConfig {
  dataDir: string;
  seed: number;
  outDir: string;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  evaluate: {
    models: string;
    out: string;
    knnNeighbours: number;
    easeLambda: number;
    easeCandidates: number;
    datasetName: string;
  };
  fetch: { url: string; sha256: string; from: string; timeoutSeconds: number };
}

export const trainerSchema: convict.Schema<TrainerConfig> = {
  dataDir: {
    doc: 'Data folder: ratings.csv (user, item), optionally books.csv (goodbooks) or items.csv (labels)',
    format: String,
    default: 'data/goodbooks-10k',
    env: 'BOOKREC_DATA_DIR',
    arg: 'data',
  },
  seed: {
    doc: 'Seed of every random choice (split, fold-in, training)',
    format: 'nat',
    default: 42,
    env: 'BOOKREC_SEED',
    arg: 'seed',
  },
  outDir: {
    doc: 'Where results, reports and model packages are written',
    format: String,
    default: 'out',
    env: 'BOOKREC_OUT_DIR',
    arg: 'out-dir',
  },
  backend: {
    doc: 'TensorFlow.js backend: auto picks node if it loads, else wasm, else cpu',
    format: ['auto', 'wasm', 'cpu', 'node'],
    default: 'auto',
    env: 'BOOKREC_BACKEND',
    arg: 'backend',
  },
  evaluate: {
    models: {
      doc: 'Comma-separated models to evaluate (pop, itemknn, ease, ease-top16)',
      format: String,
      default: 'pop,itemknn',
      arg: 'models',
    },
    out: { doc: 'Results JSON file to write (empty: print only)', format: String, default: '', arg: 'out' },
    knnNeighbours: {
      doc: 'ItemKNN: neighbours kept per item (0 = all)',
      format: 'nat',
      default: 0,
      arg: 'knn-neighbours',
    },
    easeLambda: { doc: 'EASE: L2 regularisation', format: Number, default: 100, arg: 'ease-lambda' },
    easeCandidates: {
      doc: "EASE past 16,384 books: candidate books (most co-read) in each book's support",
      format: 'nat',
      default: 64,
      arg: 'ease-candidates',
    },
    datasetName: {
      doc: "The data set's name in the results (default: the data folder's name)",
      format: String,
      default: '',
      arg: 'dataset-name',
    },
  },
  fetch: {
    url: {
      doc: 'Where `data fetch` downloads the goodbooks-10k release archive from',
      format: String,
      default: 'https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip',
      env: 'BOOKREC_DATA_URL',
      arg: 'url',
    },
    sha256: {
      doc: 'Expected sha256 of the archive (empty: record, do not enforce)',
      format: String,
      default: '',
      arg: 'sha256',
    },
    from: {
      doc: 'Import a local copy of the data set from this folder instead of downloading',
      format: String,
      default: '',
      arg: 'from',
    },
    timeoutSeconds: {
      doc: 'Give up on a silent connection after this many seconds',
      format: 'nat',
      default: 30,
      arg: 'timeout',
    },
  },
};

export function trainerConfig(sources: ConfigSources = {}): TrainerConfig {
  return buildConfig(trainerSchema, sources);
}

/** `bookrec evaluate`'s settings: the trainer's without `data fetch`'s. */
export type EvaluateConfig = Omit<TrainerConfig, 'fetch'>;
export const evaluateSchema: convict.Schema<EvaluateConfig> = (({ fetch: _, ...rest }) => rest)(
  trainerSchema,
);

/** `bookrec data fetch`'s settings: where the data goes and where it comes from. */
export type DataFetchConfig = Pick<TrainerConfig, 'dataDir' | 'fetch'>;
export const dataFetchSchema: convict.Schema<DataFetchConfig> = {
  dataDir: trainerSchema.dataDir,
  fetch: trainerSchema.fetch,
};
