import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import type { QualityView, VersionRow } from '../deploy/fleetQuality.js';
import type { GateDecision, GateRule } from '../deploy/qualityGate.js';
import { PROFILES, prepare } from '../trainer/distill/prepare.js';
import { startHarness } from './harness.js';
import { type ModelRole, type SimModel, simModels } from './models.js';
import {
  addTally,
  askRound,
  expectVersions,
  type Player,
  replayFoldIn,
  selected,
  type Tally,
  waitForVersion,
} from './play.js';
import { gatedWiden, syncedQuality } from './quality.js';
import { testReaders } from './readers.js';

/**
 * The simulator's scenario (issue 6, item 4), on the harness:
 *
 *   worse model to every device -> readers' fold-in as signals -> better model as a canary ->
 *   rounds of asking (accept/skip follow-ups) -> deploy's gated rollout judges canary vs rest and
 *   widens -> rounds on the whole fleet -> broken model as a canary -> rounds -> the gate stops it ->
 *   rollback -> every device back on the better model.
 *
 * No rounds are asked before the first canary, so both arms of the first judgement count answers of
 * the same rounds, readers at the same depth of their histories. The gate itself is deploy's (cumulative
 * counters, canary version against every other version of the channel).
 */
export interface ScenarioOptions {
  devices: number;
  dataDir: string;
  outDir: string;
  cacheDir: string;
  profile: 'quick' | 'full';
  seed: number;
  /** Ask rounds per phase. */
  rounds: number;
  canaryPercent: number;
  rule: GateRule;
  /** Extra rounds asked while the gate says "hold" (too little data), before giving up. */
  maxHoldRounds: number;
  /** How readers ask: the MQTT command (default) or the speaker's (fake) recommend button. */
  askVia?: 'command' | 'button';
  packages?: Partial<Record<ModelRole, string>>;
  brokerUrl?: string;
  backend?: 'wasm' | 'cpu';
  keepState?: boolean;
  log: Logger;
  /** One line per finished step, for people. */
  progress?: (line: string) => void;
}

export interface GateRecord {
  release: ModelRole;
  version: number;
  decisions: GateDecision[];
  outcome: 'widened' | 'stop' | 'hold';
  /** What followed: widened to 100%, rolled back, or left at the canary percent. */
  action: 'widened to 100%' | 'rolled back' | 'left at canary percent';
}

export interface OnlineVersion {
  role: ModelRole;
  version: number;
  model: SimModel;
  /** The simulator's own tally of the answers it received and judged. */
  observed: { devices: number; recommendations: number; accepted: number; rate: number; fallback: number };
  /** The agents' counters, as deploy reads them from the broker (retained). */
  counters: VersionRow | undefined;
}

export interface ScenarioReport {
  devices: number;
  profile: string;
  seed: number;
  rounds: number;
  askVia: 'command' | 'button';
  canaryPercent: number;
  rule: GateRule;
  readers: { count: number; foldInSignals: number; targetsMean: number };
  versions: OnlineVersion[];
  /** The first judgement's arms: same rounds, worse (rest) vs better (canary). */
  canaryRounds: { phase: string; tally: { version: number; recommendations: number; accepted: number }[] }[];
  gates: GateRecord[];
  /** Wall time of each step, and the process RSS when it ended. */
  phases: { name: string; seconds: number; rssMiB: number }[];
  memory: { rssPeakMiB: number; rssEndMiB: number; heapUsedEndMiB: number; baselineRssMiB: number };
  seconds: number;
  /** Every version's observed answers equal the agents' counters (recommendations and accepted). */
  countersMatchObserved: boolean;
  betterWinsOnline: boolean;
  brokenStopped: boolean;
  /** Warnings and errors the agents logged, by message (from the bounded ring). */
  agentWarnings: Record<string, number>;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export async function runScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const { log } = options;
  const say = options.progress ?? (() => undefined);
  const started = performance.now();
  const baselineRss = process.memoryUsage().rss;
  let rssPeak = baselineRss;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 250);
  sampler.unref();
  const phases: ScenarioReport['phases'] = [];
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await work();
    const seconds = (performance.now() - t0) / 1000;
    const rss = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rss);
    phases.push({ name, seconds, rssMiB: mib(rss) });
    say(`${name}: ${seconds.toFixed(1)} s`);
    return out;
  };

  const profile = PROFILES[options.profile];
  // Training, offline evaluation and all agents share the one tfjs backend of this process.
  await useBackend(options.backend ?? 'wasm', log);
  const prep = await phase('data and split', () => prepare(options.dataDir, options.seed, profile, log));
  const { readers, heldOut } = testReaders(prep, options.devices);
  const models = await phase('models (train or reuse, offline NDCG)', () =>
    simModels({
      prep,
      profile,
      seed: options.seed,
      dataDir: options.dataDir,
      outDir: options.outDir,
      cacheDir: options.cacheDir,
      readers: heldOut,
      given: options.packages,
      log,
    }),
  );
  const h = await phase(`start ${options.devices} agents`, () =>
    startHarness({
      devices: options.devices,
      rootDir: join(options.outDir, 'fleet'),
      brokerUrl: options.brokerUrl,
      backend: options.backend,
      keepState: options.keepState,
      // Counters reach the broker within half a second of a change: the gate reads only the broker.
      agentArgs: ['--quality-publish-seconds', '0.5'],
      // The canary devices follow from the seed (the rollout salt), like the split and the training: a
      // run can be repeated, and which readers get the canary is not a coin toss per run.
      deploy: {
        rolloutSalt: createHash('sha256')
          .update(`bookrec-simulate-${options.seed}`)
          .digest('hex')
          .slice(0, 16),
      },
      log,
    }),
  );
  try {
    const players: Player[] = h.fleet.devices.map((device, i) => ({ device, reader: readers[i] }));
    const observed: Tally = new Map();
    const rounds = async (n: number): Promise<Tally> => {
      const tally: Tally = new Map();
      for (let i = 0; i < n; i++) addTally(tally, await askRound(h, players, { via: options.askVia }));
      addTally(observed, tally);
      return tally;
    };
    const versionOf: Partial<Record<ModelRole, number>> = {};
    const publish = async (role: ModelRole, percent: number): Promise<SignedManifest> => {
      const m = await h.deployer.publish(models[role].dir, models[role].name, percent);
      versionOf[role] = m.version;
      return m;
    };

    await phase('install the worse model on every device', async () => {
      const m = await publish('worse', 100);
      await waitForVersion(h, h.fleet.devices, m.version);
    });
    const replay = await phase('replay every reader’s fold-in as signals', () => replayFoldIn(h, players));

    // The gate is judged inside deploy's changeRollout: widening to 100% happens only on "widen".
    const judged = async (gate: Parameters<typeof gatedWiden>[2]) => {
      await syncedQuality(h);
      return gatedWiden(h, 100, gate);
    };
    const canaryRounds: ScenarioReport['canaryRounds'] = [];
    const gates: GateRecord[] = [];
    const canary = async (role: 'better' | 'broken'): Promise<GateRecord> => {
      const m = await publish(role, options.canaryPercent);
      const picked = selected(h, m);
      await waitForVersion(h, picked, m.version);
      say(`  ${role} (version ${m.version}) on ${picked.length} canary devices`);
      const tally = await rounds(options.rounds);
      // One judgement per call (no waiting inside deploy): more data comes only from more rounds here.
      const gate = { rule: options.rule, action: 'hold' as const, waitMs: 0, pollMs: 1 };
      let hold = 0;
      let result = await judged(gate);
      while (result.outcome === 'hold' && hold < options.maxHoldRounds) {
        hold++;
        say(`  gate: hold (${result.decisions.at(-1)?.reason}); one more round`);
        addTally(tally, await rounds(1));
        result = await judged(gate);
      }
      canaryRounds.push({
        phase: `${role} canary`,
        tally: [...tally].map(([version, t]) => ({
          version,
          recommendations: t.recommendations,
          accepted: t.accepted,
        })),
      });
      let action: GateRecord['action'] = 'left at canary percent';
      if (result.outcome === 'widened') {
        await waitForVersion(h, h.fleet.devices, m.version);
        action = 'widened to 100%';
      } else if (result.outcome === 'stop') {
        const back = await h.deployer.rollback();
        await waitForVersion(h, h.fleet.devices, back.version);
        action = 'rolled back';
      }
      const record = { release: role, version: m.version, ...result, action };
      gates.push(record);
      const last = result.decisions.at(-1);
      say(`  gate: ${last?.verdict ?? 'none'}: ${last?.reason ?? ''} -> ${action}`);
      return record;
    };

    const first = await phase('better model as canary, rounds, gate', () => canary('better'));
    if (first.outcome === 'widened') await phase('rounds on the widened fleet', () => rounds(options.rounds));
    const second = await phase('broken model as canary, rounds, gate', () => canary('broken'));
    if (second.outcome === 'stop' && versionOf.better !== undefined) expectVersions(h, [versionOf.better]);

    const view = await syncedQuality(h);
    const versions = onlineVersions(models, versionOf, observed, view);
    const countersMatchObserved = versions.every(
      (v) =>
        v.counters !== undefined &&
        v.counters.recommendations === v.observed.recommendations &&
        v.counters.accepted === v.observed.accepted,
    );
    const rate = (role: ModelRole) => versions.find((v) => v.role === role)?.observed.rate ?? Number.NaN;
    const firstDecision = first.decisions.at(-1);
    const report: ScenarioReport = {
      devices: options.devices,
      profile: profile.name,
      seed: options.seed,
      rounds: options.rounds,
      askVia: options.askVia ?? 'command',
      canaryPercent: options.canaryPercent,
      rule: options.rule,
      readers: {
        count: readers.length,
        foldInSignals: replay.sent,
        targetsMean: readers.reduce((n, r) => n + r.targets.size, 0) / readers.length,
      },
      versions,
      canaryRounds,
      gates,
      phases,
      memory: { rssPeakMiB: 0, rssEndMiB: 0, heapUsedEndMiB: 0, baselineRssMiB: mib(baselineRss) },
      seconds: 0,
      countersMatchObserved,
      betterWinsOnline:
        rate('better') > rate('worse') && firstDecision !== undefined && firstDecision.difference > 0,
      brokenStopped: second.outcome === 'stop',
      agentWarnings: countMessages(h.agentLog.lines()),
    };
    const mem = process.memoryUsage();
    rssPeak = Math.max(rssPeak, mem.rss);
    report.memory = {
      rssPeakMiB: mib(rssPeak),
      rssEndMiB: mib(mem.rss),
      heapUsedEndMiB: mib(mem.heapUsed),
      baselineRssMiB: mib(baselineRss),
    };
    report.seconds = (performance.now() - started) / 1000;
    return report;
  } finally {
    clearInterval(sampler);
    await phase('stop the fleet', () => h.stop());
  }
}

function onlineVersions(
  models: Record<ModelRole, SimModel>,
  versionOf: Partial<Record<ModelRole, number>>,
  observed: Tally,
  view: QualityView,
): OnlineVersion[] {
  const rows = view.rows();
  const out: OnlineVersion[] = [];
  for (const role of ['worse', 'better', 'broken'] as const) {
    const version = versionOf[role];
    if (version === undefined) continue;
    const t = observed.get(version);
    const recommendations = t?.recommendations ?? 0;
    out.push({
      role,
      version,
      model: models[role],
      observed: {
        devices: t?.devices.size ?? 0,
        recommendations,
        accepted: t?.accepted ?? 0,
        rate: recommendations > 0 ? (t?.accepted ?? 0) / recommendations : 0,
        fallback: t?.fallback ?? 0,
      },
      counters: rows.find((r) => r.version === version),
    });
  }
  return out;
}

/** Warning/error lines counted by message (agents log the same few things, 200 times over). */
function countMessages(lines: Record<string, unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    if (l.level !== 'warn' && l.level !== 'error') continue;
    const key = `${l.level}: ${String(l.msg)}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
