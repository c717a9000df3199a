import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import { trainerSchema } from '../config.js';

/**
 * Settings of `bookrec train` and `bookrec grid`: the shared trainer settings (data, seed, backend, log
 * level) plus the distillation's. One schema: defaults, validation, --help and the type.
 */
export interface TrainConfig {
  dataDir: string;
  seed: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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
  logLevel: trainerSchema.logLevel,
  out: {
    doc: 'Output folder: report, charts, model package',
    format: String,
    default: 'out/train',
    arg: 'out',
  },
  cache: {
    doc: 'Cache of expensive fits (EASE weights), shared by runs',
    format: String,
    default: 'out/cache',
    arg: 'cache',
  },
  quick: {
    doc: 'Quick profile: the 1,500 most-read books, 8,000 users, few epochs (demo and tests, ~2 min)',
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
    doc: "Hidden layer widths of the teacher's deep path",
    format: String,
    default: '256',
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
  mlpHidden: { doc: 'MLP student: hidden width', format: 'nat', default: 32, arg: 'mlp-hidden' },
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
  return buildConfig(trainSchema, sources, [fraction]);
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
