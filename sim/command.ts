import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type convict from 'convict';
import type { Command } from '../common/command.js';
import { BOOLEAN, buildConfig, type ConfigSources } from '../common/config.js';
import { BookrecError } from '../common/errors.js';
import { brokerUrlProblem } from '../common/mqttSettings.js';
import { renderReport } from './report.js';
import { runScenario } from './scenario.js';

/**
 * `bookrec simulate`: the fleet simulator. N real agent cores play held-out goodbooks readers; the
 * worse model, the better one (canary, gate, widen) and a broken one (canary, gate, rollback) are
 * rolled out over MQTT; the report puts online acceptance per version next to offline NDCG@10.
 */
export interface SimulateConfig {
  devices: number;
  dataDir: string;
  out: string;
  cache: string;
  profile: 'quick' | 'full';
  seed: number;
  rounds: number;
  canaryPercent: number;
  gateMargin: number;
  gateMinRecommendations: number;
  maxHoldRounds: number;
  askVia: 'command' | 'button';
  better: string;
  worse: string;
  broken: string;
  broker: string;
  backend: 'wasm' | 'cpu';
  keepState: boolean;
}

export const simulateSchema: convict.Schema<SimulateConfig> = {
  devices: {
    doc: 'Simulated devices (agent cores), one held-out reader each',
    format: 'nat',
    default: 200,
    arg: 'devices',
  },
  dataDir: {
    doc: 'goodbooks-10k folder (ratings.csv, books.csv, to_read.csv)',
    format: String,
    default: 'data/goodbooks-10k',
    env: 'BOOKREC_DATA_DIR',
    arg: 'data',
  },
  out: {
    doc: 'Output folder: packages/, report.json, report.txt (fleet state while running)',
    format: String,
    default: 'out/sim',
    arg: 'out',
  },
  cache: {
    doc: "EASE and teacher cache (empty: OUT/cache; give a training run's, e.g. out/train/cache, to reuse its fits)",
    format: String,
    default: '',
    arg: 'cache',
  },
  profile: {
    doc: 'Training profile of the packages and readers: quick or full',
    format: ['quick', 'full'],
    default: 'quick',
    arg: 'profile',
  },
  seed: { doc: 'Seed of the split and of training', format: 'nat', default: 42, arg: 'seed' },
  rounds: {
    doc: 'Ask rounds per phase (each device asks once per round)',
    format: 'nat',
    default: 3,
    arg: 'rounds',
  },
  canaryPercent: { doc: 'Rollout percent of a canary', format: Number, default: 10, arg: 'canary-percent' },
  gateMargin: {
    doc: 'Quality gate: acceptance-rate margin the canary may be worse by',
    format: Number,
    default: 0.02,
    arg: 'gate-margin',
  },
  gateMinRecommendations: {
    doc: 'Quality gate: answers needed per arm before it judges',
    format: 'nat',
    default: 40,
    arg: 'gate-min-recommendations',
  },
  maxHoldRounds: {
    doc: 'Extra rounds while the gate holds for more data',
    format: 'nat',
    default: 3,
    arg: 'max-hold-rounds',
  },
  askVia: {
    doc: 'How readers ask: MQTT command, or a press of the (fake GPIO) recommend button',
    format: ['command', 'button'],
    default: 'command',
    arg: 'ask-via',
  },
  better: {
    doc: 'Package of the better model (empty: train the distilled student)',
    format: String,
    default: '',
    arg: 'better',
  },
  worse: {
    doc: 'Package of the worse model (empty: train the MLP student without distillation)',
    format: String,
    default: '',
    arg: 'worse',
  },
  broken: {
    doc: 'Package of the broken model (empty: the better one with its outputs scrambled)',
    format: String,
    default: '',
    arg: 'broken',
  },
  broker: {
    doc: 'External MQTT broker URL (empty: embedded aedes on a free port)',
    format: (v: unknown) => {
      const problem = v === '' ? undefined : brokerUrlProblem(v);
      if (problem) throw new Error(problem);
    },
    default: '',
    arg: 'broker',
  },
  backend: { doc: 'tfjs backend of the agents', format: ['wasm', 'cpu'], default: 'wasm', arg: 'backend' },
  keepState: {
    doc: 'Keep the devices’ state directories (<out>/fleet) after the run',
    format: BOOLEAN,
    default: false,
    arg: 'keep-state',
  },
};

export function simulateConfig(sources: ConfigSources): SimulateConfig {
  const c = buildConfig(simulateSchema, sources);
  if (c.devices < 1) throw new BookrecError('USAGE', '--devices must be at least 1');
  if (!(c.canaryPercent > 0 && c.canaryPercent < 100)) {
    throw new BookrecError(
      'USAGE',
      `--canary-percent must be between 0 and 100 (exclusive), got ${c.canaryPercent}`,
    );
  }
  if (c.rounds < 1) throw new BookrecError('USAGE', '--rounds must be at least 1');
  return c;
}

const command: Command = {
  path: ['simulate'],
  summary: 'fleet simulator: N agents play held-out readers through rollouts judged by the quality gate',
  usage: '--data DIR',
  schema: simulateSchema,
  examples: [
    'bookrec simulate --data ../shared/datasets/goodbooks-10k',
    'bookrec simulate --data ../shared/datasets/goodbooks-10k --devices 20 --better a/package --worse b/package --broken c/package',
  ],
  async run(args, ctx) {
    const c = simulateConfig({ env: ctx.env, argv: args });
    const given = Object.fromEntries(
      (['better', 'worse', 'broken'] as const).filter((r) => c[r] !== '').map((r) => [r, resolve(c[r])]),
    );
    const report = await runScenario({
      devices: c.devices,
      dataDir: c.dataDir,
      outDir: c.out,
      cacheDir: c.cache || join(c.out, 'cache'),
      profile: c.profile,
      seed: c.seed,
      rounds: c.rounds,
      canaryPercent: c.canaryPercent,
      rule: { margin: c.gateMargin, minRecommendations: c.gateMinRecommendations },
      maxHoldRounds: c.maxHoldRounds,
      askVia: c.askVia,
      packages: given,
      brokerUrl: c.broker || undefined,
      backend: c.backend,
      keepState: c.keepState,
      log: ctx.log.child('sim'),
      progress: (line) => ctx.print(line),
    });
    const text = renderReport(report);
    await mkdir(c.out, { recursive: true });
    await writeFile(join(c.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(c.out, 'report.txt'), `${text}\n`);
    ctx.print('');
    ctx.print(text);
    ctx.print(`wrote ${join(c.out, 'report.txt')} and report.json`);
    if (!report.betterWinsOnline || !report.brokenStopped) {
      throw new BookrecError(
        'SIM_OUTCOME',
        `the simulation did not show what it should: better wins online ${report.betterWinsOnline}, broken stopped ${report.brokenStopped}`,
      );
    }
  },
};

export default command;
