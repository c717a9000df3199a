import { join } from 'node:path';
import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import { trainerSchema } from '../config.js';

/**
 * Settings of `bookrec train` and `bookrec grid`: the shared trainer settings (data, seed, backend)
 * plus the distillation's. One schema: defaults, validation, --help and the type.
 */
export interface TrainConfig {
  dataDir: string;
  seed: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  out: string;
  cache: string;
  quick: boolean;
  studentEpochs: number;
  easeLambda: number;
  teacherHidden: string;
  alpha: number;
  temperature: number;
  fanIn: number;
  studentHidden: number;
  mlpHidden: number;
  datasetName: string;
  fromGrid: string;
  maxItems: number;
  maxMemoryGb: number;
  easeDenseMax: number;
  easeCandidates: number;
  sparseEaseLambdas: string;
  studentLambdas: string;
  studentAlphas: string;
  studentShrink: string;
  maxModelBytes: number;
  grid: { student: 'sparse' | 'mlp'; alphas: string; temperatures: string; seeds: string };
}

const fraction = {
  name: 'fraction',
  validate(v: unknown) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error('must be a number in [0, 1]');
  },
};

export const trainSchema: convict.Schema<TrainConfig> = {
  dataDir: trainerSchema.dataDir,
  seed: trainerSchema.seed,
  backend: trainerSchema.backend,
  out: {
    doc: 'Output folder: report, charts, model package',
    format: String,
    default: 'out/train',
    arg: 'out',
  },
  cache: {
    doc: 'Cache of expensive fits (EASE weights, the teacher); give one folder to share it between runs (empty: OUT/cache)',
    format: String,
    default: '',
    arg: 'cache',
  },
  quick: {
    doc: 'Quick profile: the 1,500 most-read books, 8,000 readers drawn with --seed, few epochs (demo and tests, ~2 min)',
    format: BOOLEAN,
    default: false,
    arg: 'quick',
  },
  studentEpochs: {
    doc: "Students' epoch budget (0 = the profile's)",
    format: 'nat',
    default: 0,
    arg: 'student-epochs',
  },
  easeLambda: {
    doc: "L2 of the teacher's wide path (EASE)",
    format: Number,
    default: 100,
    arg: 'ease-lambda',
  },
  teacherHidden: {
    doc: "Hidden layer widths of the teacher's deep path ('auto': 256 up to --ease-dense-max books, none beyond; 'none')",
    format: String,
    default: 'auto',
    arg: 'teacher-hidden',
  },
  alpha: {
    doc: 'Weight of the hard-label loss (1 = no distillation)',
    format: fraction.name,
    default: 0.5,
    arg: 'alpha',
  },
  temperature: { doc: 'Distillation temperature T', format: Number, default: 1, arg: 'temperature' },
  fanIn: {
    doc: "Shipped student: books feeding each book's score",
    format: 'nat',
    default: 16,
    arg: 'fan-in',
  },
  studentHidden: {
    doc: 'Shipped student: width of its MLP path (0 = none)',
    format: 'nat',
    default: 0,
    arg: 'student-hidden',
  },
  mlpHidden: {
    doc: 'MLP students (mlp-kd, mlp-nokd): hidden width (0 = none; only up to --ease-dense-max books)',
    format: 'nat',
    default: 32,
    arg: 'mlp-hidden',
  },
  datasetName: {
    doc: "The data set's name in the report and the model id (default: the data folder's name)",
    format: String,
    default: '',
    arg: 'dataset-name',
  },
  fromGrid: {
    doc: 'Take a and T from a `bookrec grid` result (grid-*.json)',
    format: String,
    default: '',
    arg: 'from-grid',
  },
  maxItems: {
    doc: 'Keep only the N most-read books (0 = all): for catalogues too big for memory',
    format: 'nat',
    default: 0,
    arg: 'max-items',
  },
  maxMemoryGb: {
    doc: 'Refuse (before allocating) a run estimated to need more memory than this',
    format: Number,
    default: 12,
    arg: 'max-memory-gb',
  },
  easeDenseMax: {
    doc: "Teacher's wide path: dense EASE up to this many books, per-book sparse EASE beyond",
    format: 'nat',
    default: 16384,
    arg: 'ease-dense-max',
  },
  easeCandidates: {
    doc: "Sparse EASE: candidate books (most co-read) in each book's support",
    format: 'nat',
    default: 64,
    arg: 'ease-candidates',
  },
  sparseEaseLambdas: {
    doc: 'Sparse EASE: L2 values tried on validation users',
    format: String,
    default: '10,30',
    arg: 'sparse-ease-lambdas',
  },
  studentLambdas: {
    doc: "Shipped student's closed-form refit: ridge L2 values tried on validation users",
    format: String,
    default: '3,10,30,100',
    arg: 'student-lambdas',
  },
  studentAlphas: {
    doc: "Shipped student's closed-form refit: hard-target shares a (< 1) tried on validation users",
    format: String,
    default: '0,0.5,0.75',
    arg: 'student-alphas',
  },
  studentShrink: {
    doc: "Shipped student's refit: what the ridge shrinks towards, tried on validation users (zero, start: the teacher's pruned weights)",
    format: String,
    default: 'zero,start',
    arg: 'student-shrink',
  },
  maxModelBytes: {
    doc: 'Size budget of the exported student (0 = 1 MB up to 10,000 books, else 8 MB or 96 bytes a book)',
    format: 'nat',
    default: 0,
    arg: 'max-model-bytes',
  },
  grid: {
    student: {
      doc: 'grid: which student to search for',
      format: ['sparse', 'mlp'],
      default: 'sparse',
      arg: 'student',
    },
    alphas: { doc: 'grid: values of a', format: String, default: '0.25,0.5,0.75', arg: 'alphas' },
    temperatures: { doc: 'grid: values of T', format: String, default: '1,2,4', arg: 'temperatures' },
    seeds: { doc: 'grid: training seeds per point', format: String, default: '1', arg: 'seeds' },
  },
};

export function trainConfig(sources: ConfigSources = {}): TrainConfig {
  const config = buildConfig(trainSchema, sources, [fraction]);
  // Everything a run writes stays under --out unless asked otherwise: never ./out of whatever folder it ran in.
  return config.cache ? config : { ...config, cache: join(config.out, 'cache') };
}

/** The deep path's widths: 'auto' is 256 for catalogues the dense path holds, none beyond. */
export function teacherWidths(text: string, items: number, denseMax: number): number[] {
  if (text === 'auto') return items <= denseMax ? [256] : [];
  if (text === 'none' || text === '') return [];
  return numberList(text, 'teacherHidden');
}

/** "zero,start" -> ['zero', 'start']; anything else names the setting. */
export function shrinkTargets(text: string): ('zero' | 'start')[] {
  const values = text.split(',').map((s) => s.trim());
  if (values.length === 0 || values.some((v) => v !== 'zero' && v !== 'start')) {
    throw new BookrecError('CONFIG_INVALID', `studentShrink: "${text}" is not a list of zero, start`);
  }
  return values as ('zero' | 'start')[];
}

/** The exported student's size budget in bytes (docs/distillation.md). */
export function modelByteBudget(items: number, configured: number): number {
  if (configured > 0) return configured;
  return items <= 10_000 ? 1_000_000 : Math.max(8_000_000, 96 * items);
}

/** "0.25, 0.5" -> [0.25, 0.5]; a bad entry names the setting. */
export function numberList(text: string, setting: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new BookrecError(
      'CONFIG_INVALID',
      `${setting}: "${text}" is not a comma-separated list of numbers`,
    );
  }
  return values;
}

/** `bookrec train`'s flags: the grid's lists belong to `bookrec grid`. */
export const trainCommandSchema: convict.Schema<Omit<TrainConfig, 'grid'>> = (({ grid: _, ...rest }) => rest)(
  trainSchema,
);
