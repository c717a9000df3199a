import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { EVENT_KINDS } from '../../common/model/encoding.js';
import { DEFAULT_LIMITS, type SignedManifest } from '../../common/protocol/manifest.js';
import { generateSigningKey, loadPrivateKey } from '../../common/protocol/signing.js';
import { parseStatus } from '../../common/protocol/status.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { SimDeployer } from '../../sim/deployer.js';
import { FleetDriver } from '../../sim/driver.js';
import { mulberry32 } from '../../trainer/random.js';
import { benchCatalogue, writeBenchPackage } from '../agentModel.js';
import { type Accounting, account, historyOnDisk, LinkWatch, signalFailures } from './accounting.js';
import { READERS_USER, startSoakBroker } from './broker.js';
import { checkReleaseFiles, checkStatus, type DeviceCheck } from './checks.js';
import { KilledAgent, type KillRecord, TRAPS } from './killedAgent.js';
import { SignalLedger, signalsFile } from './ledger.js';

/**
 * The chaos soak's second half: real `bookrec agent` processes SIGKILLed mid-write, again and again,
 * while signals flow to them (their JSONL files and MQTT) and clean releases keep coming. Each kill is
 * aimed at a write (bench/soak/killedAgent.ts: a history snapshot, the signals-file position, an update
 * report, a release being downloaded or staged) or at a random moment; each agent is started again at
 * once on the same state directory. At the end: every agent runs the last release (files re-hashed
 * against the signed manifest), its retained status says so, no unfinished write is left on disk, and
 * every signal written (file line appended, or MQTT publish acknowledged by the broker) is in its
 * history, once. Nothing is excused: the broker is not killed here (the fleet soak does that), and a
 * killed agent's persistent session keeps its MQTT signals queued until it is back.
 */
export interface KillSoakOptions {
  agents: number;
  durationMs: number;
  seed: number;
  rootDir: string;
  books?: number;
  signalsPerSecond?: number;
  /** A clean release every this often during the soak. */
  releaseEveryMs?: number;
  /** How long an armed trap waits for its moment before the agent is killed anyway. */
  trapWaitMs?: number;
  /** Bound on an agent's start (process, model load, broker) and on the final settling. */
  settleMs?: number;
  keep?: boolean;
  log: Logger;
  progress?: (line: string) => void;
}

export interface KillSoakReport {
  ok: boolean;
  failures: string[];
  agents: number;
  seed: number;
  soakMs: number;
  kills: (KillRecord & { t: number })[];
  releases: number;
  finalVersion: number;
  /** Files agents said at start they removed (unfinished writes of a killed run). */
  removedAtStart: number;
  checks: DeviceCheck[];
  signals: Accounting;
}

export async function runKillSoak(o: KillSoakOptions): Promise<KillSoakReport> {
  const say = o.progress ?? (() => undefined);
  const rng = mulberry32(o.seed);
  const signalRng = mulberry32(o.seed + 1);
  const settleMs = o.settleMs ?? 60_000;
  const failures: string[] = [];
  await mkdir(o.rootDir, { recursive: true });
  await useBackend('wasm');
  const { books } = await benchCatalogue(o.books ?? 1000);
  const pkgs = ['a', 'b', 'c'].map((n) => join(o.rootDir, `package-${n}`));
  for (const [i, dir] of pkgs.entries()) await writeBenchPackage(dir, books, o.seed + i);
  const ids = Array.from({ length: o.agents }, (_, i) => `kill-${String(i).padStart(2, '0')}`);
  const pw = { device: secret(), deploy: secret(), readers: secret() };
  const broker = await startSoakBroker({
    deviceIds: ids,
    devicePassword: pw.device,
    deployPassword: pw.deploy,
    readersPassword: pw.readers,
  });
  const pair = generateSigningKey();
  const key = loadPrivateKey(pair.privateKeyPem);
  const topics = new TopicMap('bookrec');
  const channel = 'stable';
  const agents: KilledAgent[] = [];
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const deployer = await SimDeployer.connect({
      url: broker.directUrl,
      prefix: 'bookrec',
      channel,
      log: o.log.child('deploy'),
      argv: ['--username', 'deploy'],
      env: { BOOKREC_MQTT_PASSWORD: pw.deploy },
      signingKeyPem: pair.privateKeyPem,
    });
    undo.push(() => deployer.close());
    const driver = await FleetDriver.connect({
      url: broker.directUrl,
      topics,
      username: READERS_USER,
      password: pw.readers,
    });
    undo.push(() => driver.close());
    let version = 0;
    const publish = async (dir: string): Promise<SignedManifest> => {
      const files = await readPackage(dir, 64 * 1024, DEFAULT_LIMITS);
      const request = {
        channel,
        model: 'kill-soak',
        version: ++version,
        minAgentVersion: '0.1.0',
        metrics: {},
        percent: 100,
        files,
      };
      return publishRelease(deployer.ctx, request, key);
    };

    for (const id of ids) {
      const stateDir = join(o.rootDir, 'agents', id);
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      const a = new KilledAgent({
        id,
        stateDir,
        env: { BOOKREC_MQTT_PASSWORD: pw.device },
        args: [
          ...['--device-id', id, '--broker', broker.directUrl, '--state-dir', stateDir],
          ...['--trusted-keys', deployer.publicKey, '--channel', channel, '--prefix', 'bookrec'],
          ...['--tts', 'none', '--audio', 'none', '--output', 'publish', '--log-level', 'info'],
          ...['--signals-file', signalsFile(stateDir), '--signals-poll-ms', '100'],
          // Compactions (snapshot writes) often enough to be hit.
          ...['--history-compact-every', '16'],
          ...['--reconnect-min-seconds', '0.2', '--reconnect-max-seconds', '2'],
        ],
      });
      agents.push(a);
      undo.push(() => a.stop(5000));
    }
    // The first start of each makes its persistent session: from then on the broker queues its signals.
    await Promise.all(agents.map((a) => a.start(settleMs)));
    const first = await publish(pkgs[0]);
    await waitUntil(
      `every agent on v${first.version}`,
      () => agents.every((a) => a.switched.at(-1) === first.version),
      settleMs,
    );
    say(`kill soak: ${o.agents} agent processes on v${first.version}; killing for ${o.durationMs / 1000} s`);

    const ledger = new SignalLedger({
      topics,
      transport: driver.transport,
      fileOf: (id) => signalsFile(agents.find((a) => a.id === id)!.stateDir),
      books: books.map((b) => b.id),
      kinds: EVENT_KINDS,
    });
    const t0 = Date.now();
    const kills: KillSoakReport['kills'] = [];
    let tick = 0;
    const signalTimer = setInterval(
      () => {
        const a = agents[Math.floor(signalRng() * agents.length)];
        ledger.write(a.id, tick++ % 2 === 0 ? 'file' : 'mqtt');
      },
      1000 / (o.signalsPerSecond ?? 30),
    );
    let releases = 1;
    const releaseTimer = setInterval(() => {
      publish(pkgs[releases % pkgs.length])
        .then(() => {
          releases++;
        })
        .catch((err: unknown) => failures.push(`release during the soak failed: ${errorMessage(err)}`));
    }, o.releaseEveryMs ?? 5000);
    const end = t0 + o.durationMs;
    // One kill loop per agent: arm the next trap, kill, look at what was left, start again.
    const loops = agents.map(async (a, index) => {
      for (let round = 0; Date.now() < end; round++) {
        const trap = TRAPS[(round + index) % TRAPS.length];
        const wait =
          trap === 'any time'
            ? 200 + rng() * 2000
            : Math.min(o.trapWaitMs ?? 6000, Math.max(200, end - Date.now()));
        const k = await a.killAt(trap, wait);
        kills.push({ ...k, t: (Date.now() - t0) / 1000 });
        say(
          `  ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${a.id} killed (${trap}${k.sprung ? '' : ': not reached, killed anyway'})${k.leftovers.length > 0 ? `; left ${k.leftovers.join(', ')}` : ''}`,
        );
        await a.start(settleMs);
      }
    });
    const loopFailures = await Promise.allSettled(loops);
    for (const r of loopFailures)
      if (r.status === 'rejected') failures.push(`kill loop: ${errorMessage(r.reason)}`);
    clearInterval(signalTimer);
    clearInterval(releaseTimer);
    const soakMs = Date.now() - t0;

    // A last release nobody is killed during, then every written signal must reach its history.
    const final = await publish(pkgs[(releases + 1) % pkgs.length]);
    await waitUntil(
      `every agent on the final v${final.version}`,
      () => agents.every((a) => a.switched.at(-1) === final.version),
      settleMs,
    ).catch((err: unknown) => failures.push(errorMessage(err)));
    await ledger.settle();
    const wanted = (id: string) =>
      ledger.written.filter((s) => s.device === id && s.writtenAt !== undefined).map((s) => ledger.t0 + s.id);
    await waitUntilAsync(
      'every written signal in a history',
      async () => {
        for (const a of agents) {
          const have = new Set((await historyOnDisk(a.stateDir, 1_000_000, true)).map((e) => e.at));
          if (!wanted(a.id).every((at) => have.has(at))) return false;
        }
        return true;
      },
      30_000,
    ).catch((err: unknown) => say(`  (${errorMessage(err)}: the check after the clean stop decides)`));

    const statuses = await deployer.retained('status');
    const checks: DeviceCheck[] = [];
    for (const a of agents) {
      const payload = statuses.get(topics.device(a.id, 'status'));
      const problems = [
        ...(await checkReleaseFiles(a.stateDir, final)),
        ...checkStatus(payload ? parseStatus(payload) : undefined, final),
      ];
      checks.push({ device: a.id, problems });
    }
    await Promise.all(agents.map((a) => a.stop(settleMs)));
    const histories = new Map<string, { bookId: number; kind: string; at: number }[]>();
    for (const a of agents) {
      histories.set(a.id, await historyOnDisk(a.stateDir, 1_000_000));
      const left = await a.unfinishedWrites();
      if (left.length > 0)
        checks
          .find((c) => c.device === a.id)
          ?.problems.push(`unfinished writes left after a clean stop: ${left.join(', ')}`);
    }
    // No link-down excuses: a killed agent's MQTT signals wait in its persistent session.
    const signals = account(ledger, histories, new LinkWatch([]));
    const removedAtStart = agents.reduce((n, a) => n + a.removedAtStart, 0);

    const bad = checks.filter((c) => c.problems.length > 0);
    if (bad.length > 0) failures.push(`${bad.length} agents failed their checks`);
    failures.push(...signalFailures(signals, ledger));
    if (signals.duplicates > 0) failures.push(`${signals.duplicates} signals stored twice`);
    if (kills.length < o.agents) failures.push(`only ${kills.length} kills`);
    return {
      ok: failures.length === 0,
      failures,
      agents: o.agents,
      seed: o.seed,
      soakMs,
      kills,
      releases: releases + 1,
      finalVersion: final.version,
      removedAtStart,
      checks,
      signals,
    };
  } finally {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    await broker.stop();
    if (!o.keep) await rm(o.rootDir, { recursive: true, force: true });
  }
}

export function renderKillReport(r: KillSoakReport): string {
  const out: string[] = [];
  out.push(
    `kill soak: ${r.agents} agent processes, ${(r.soakMs / 1000).toFixed(1)} s, seed ${r.seed}; ${r.kills.length} SIGKILLs, ${r.releases} releases`,
  );
  out.push('  aimed at              kills  moment reached  unfinished write found on disk');
  for (const trap of TRAPS) {
    const ks = r.kills.filter((k) => k.trap === trap);
    out.push(
      `  ${trap.padEnd(20)} ${String(ks.length).padStart(6)} ${String(ks.filter((k) => k.sprung).length).padStart(15)} ${String(ks.filter((k) => k.leftovers.length > 0).length).padStart(31)}`,
    );
  }
  out.push(`  files the agents removed at their next start: ${r.removedAtStart}`);
  const bad = r.checks.filter((c) => c.problems.length > 0);
  out.push(
    `agents: ${r.agents - bad.length}/${r.agents} run v${r.finalVersion} (files re-hashed = signed sha256), retained status right, no unfinished write left`,
  );
  for (const c of bad) out.push(`  ${c.device}: ${c.problems.join('; ')}`);
  const s = r.signals;
  out.push(
    `signals: file ${s.file.found}/${s.file.written} found, mqtt ${s.mqtt.found}/${s.mqtt.written} found (none excused); lost ${s.file.lost + s.mqtt.lost}, duplicates ${s.duplicates}, mismatched ${s.mismatched}`,
  );
  for (const l of s.lostSamples) out.push(`  lost: ${l}`);
  out.push(r.ok ? 'result: PASS' : `result: FAIL (${r.failures.join('; ')})`);
  return out.join('\n');
}

function secret(): string {
  return randomBytes(12).toString('hex');
}

async function waitUntil(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  await waitUntilAsync(what, async () => done(), timeoutMs);
}

async function waitUntilAsync(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
