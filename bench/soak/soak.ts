import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { EVENT_KINDS } from '../../common/model/encoding.js';
import { DEFAULT_LIMITS, type SignedManifest } from '../../common/protocol/manifest.js';
import { generateSigningKey, loadPrivateKey } from '../../common/protocol/signing.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { type SimDevice, SimFleet } from '../../sim/fleet.js';
import { type Harness, startHarness } from '../../sim/harness.js';
import { mulberry32 } from '../../trainer/random.js';
import { benchCatalogue, writeBenchPackage } from '../agentModel.js';
import { account, excused, historyOnDisk, LinkWatch, signalFailures } from './accounting.js';
import { READERS_USER, startSoakBroker } from './broker.js';
import { checkDevices, waitRefused } from './checks.js';
import {
  dropConnections,
  killPublisherMidway,
  publishBadSignature,
  publishCorrupted,
  readManifestVersion,
  restartBroker,
} from './faults.js';
import { SignalLedger, signalsFile, type WrittenSignal } from './ledger.js';
import { MemorySampler } from './memory.js';
import type { SoakReport } from './report.js';

/**
 * The chaos soak: the simulated fleet (sim/harness.ts: N AgentService cores, each on its own MQTT
 * connection) on a real mosquitto, for a bounded time, while signals flow to every device by MQTT and
 * by its JSONL file and faults are injected on a seeded schedule. Then: does every device run the last
 * good release (files re-hashed against its signed manifest), is every retained status right, is every
 * written signal in its device's history on disk, did memory level off. See docs/simulator.md.
 */
export interface SoakOptions {
  devices: number;
  durationMs: number;
  seed: number;
  /** Work folder (state directories, packages, key); removed at the end unless keep. */
  rootDir: string;
  /** Catalogue size of the packages (random weights in the student's shape). */
  books?: number;
  signalsPerSecond?: number;
  /** Connections dropped every this often, this share of the devices each time. */
  dropEveryMs?: number;
  dropShare?: number;
  brokerRestarts?: 1 | 2;
  sampleEveryMs?: number;
  /** How long a release may take to reach (or be refused by) every device. */
  settleMs?: number;
  keep?: boolean;
  log: Logger;
  progress?: (line: string) => void;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const say = o.progress ?? (() => undefined);
  // One generator per use, so the schedule's jitter and the devices cut do not depend on how many
  // signals were written in between (which depends on timing): the same seed, the same faults.
  const jitterRng = mulberry32(o.seed);
  const dropRng = mulberry32(o.seed + 1);
  const signalRng = mulberry32(o.seed + 2);
  const settleMs = o.settleMs ?? 90_000;
  const failures: string[] = [];
  const injections: SoakReport['injections'] = [];
  await mkdir(o.rootDir, { recursive: true });
  const setupStarted = Date.now();

  // The agents' backend, initialised once for the process (SimFleet does the same); the packages need it.
  await useBackend('wasm');
  // Three good packages in the student's shape (same catalogue, different weights) and a key file.
  const { books } = await benchCatalogue(o.books ?? 1000);
  const pkgs = ['a', 'b', 'c'].map((n) => join(o.rootDir, `package-${n}`));
  for (const [i, dir] of pkgs.entries()) await writeBenchPackage(dir, books, o.seed + i);
  const pair = generateSigningKey();
  const key = loadPrivateKey(pair.privateKeyPem);
  const pw = { device: secret(), deploy: secret(), readers: secret() };

  const ids = Array.from(
    { length: o.devices },
    (_, i) => `sim-${String(i).padStart(Math.max(3, String(o.devices - 1).length), '0')}`,
  );
  const broker = await startSoakBroker({
    deviceIds: ids,
    devicePassword: pw.device,
    deployPassword: pw.deploy,
    readersPassword: pw.readers,
  });
  let h: Harness | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    h = await startHarness({
      devices: o.devices,
      rootDir: join(o.rootDir, 'fleet'),
      brokerUrl: broker.url,
      keepState: true,
      agentEnv: { BOOKREC_MQTT_PASSWORD: pw.device },
      // A small compaction interval so snapshots and log truncation happen under the faults too.
      agentArgs: ['--signals-poll-ms', '200', '--history-compact-every', '16'],
      deviceArgs: (_id, stateDir) => ['--signals-file', signalsFile(stateDir)],
      deploy: {
        argv: ['--username', 'deploy'],
        env: { BOOKREC_MQTT_PASSWORD: pw.deploy },
        signingKeyPem: pair.privateKeyPem,
      },
      readers: { username: READERS_USER, password: pw.readers },
      log: o.log,
    });
    const harness = h;
    const fleet = h.fleet;
    let version = 0;
    const goodVersions = new Set<number>();
    const publish = async (dir: string): Promise<SignedManifest> => {
      // Versions are numbered here, not from the broker's records: a SIGKILLed broker can lose the
      // newest retained records, and auto-numbering would then reuse a version devices already run.
      const files = await readPackage(dir, 64 * 1024, DEFAULT_LIMITS);
      const request = {
        channel: harness.channel,
        model: 'soak',
        version: ++version,
        minAgentVersion: '0.1.0',
        metrics: {},
        percent: 100,
        files,
      };
      const m = await publishRelease(harness.deployer.ctx, request, key);
      goodVersions.add(m.version);
      return m;
    };
    const installed = (m: SignedManifest, what: string) =>
      fleet
        .waitFor(what, (d) => SimFleet.version(d) === m.version, settleMs)
        .catch((err: unknown) => failures.push(errorMessage(err)));

    let good = await publish(pkgs[0]);
    await installed(good, `first release v${good.version}`);
    const setupMs = Date.now() - setupStarted;
    say(
      `setup: ${o.devices} devices run v${good.version} after ${(setupMs / 1000).toFixed(1)} s; soaking for ${o.durationMs / 1000} s`,
    );

    const watch = new LinkWatch(fleet.devices);
    watch.start();
    const memory = new MemorySampler(async () => (await broker.mosquitto.memoryKiB()).rss);
    memory.start(o.sampleEveryMs ?? 5000);
    const ledger = new SignalLedger({
      topics: h.topics,
      transport: h.driver.transport,
      fileOf: (id) => signalsFile(fleet.device(id).stateDir),
      books: books.map((b) => b.id),
      kinds: EVENT_KINDS,
    });
    const t0 = Date.now();
    const elapsed = () => (Date.now() - t0) / 1000;
    const inject = (what: string, outcome: string) => {
      injections.push({ t: elapsed(), what, outcome });
      say(`  ${elapsed().toFixed(1).padStart(6)} s  ${what}: ${outcome}`);
    };

    let tick = 0;
    let connectionsCut = 0;
    timers.push(
      setInterval(
        () => {
          const d = fleet.devices[Math.floor(signalRng() * fleet.devices.length)];
          ledger.write(d.id, tick++ % 2 === 0 ? 'file' : 'mqtt');
        },
        1000 / (o.signalsPerSecond ?? 20),
      ),
    );
    const dropTimer = setInterval(
      () => {
        const k = Math.max(1, Math.round((o.dropShare ?? 0.2) * fleet.devices.length));
        const chosen = pick(
          fleet.devices.map((d) => d.id),
          k,
          dropRng,
        );
        const cut = dropConnections(broker, chosen);
        connectionsCut += cut;
        inject(
          'dropped connections',
          `${cut} cut (${chosen.slice(0, 4).join(', ')}${chosen.length > 4 ? ', ...' : ''})`,
        );
      },
      o.dropEveryMs ?? Math.max(3000, o.durationMs / 12),
    );
    timers.push(dropTimer);

    const steps: { at: number; run: () => Promise<void> }[] = [
      {
        at: 0.1,
        run: async () => {
          const m = await publishCorrupted(harness, key, pkgs[1], ++version);
          const r = await waitRefused(harness, m.version, 'FILE_SHA256', settleMs);
          inject(
            `corrupted release v${m.version} (a chunk's bytes differ from the signed sha256)`,
            `refused by ${r.refused}/${o.devices} (${fmtCodes(r.codes)})`,
          );
          if (r.refused !== o.devices)
            failures.push(`corrupted v${m.version} refused by ${r.refused}/${o.devices} only`);
        },
      },
      { at: 0.22, run: () => restart() },
      {
        at: 0.32,
        run: async () => {
          const v = ++version;
          await publishBadSignature(harness, good, v);
          const r = await waitRefused(harness, 0, 'MANIFEST_SIGNATURE', settleMs);
          inject(
            `manifest v${v} with a bad signature`,
            `refused by ${r.refused}/${o.devices} (${fmtCodes(r.codes)})`,
          );
          if (r.refused !== o.devices)
            failures.push(`forged v${v} refused by ${r.refused}/${o.devices} only`);
        },
      },
      {
        at: 0.42,
        run: async () => {
          const started = Date.now();
          good = await publish(pkgs[1]);
          await installed(good, `clean release v${good.version}`);
          inject(
            `clean release v${good.version} (drops continuing)`,
            `on ${countVersion(fleet, good.version)}/${o.devices} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        },
      },
      {
        at: 0.55,
        run: async () => {
          const k = await killPublisherMidway(broker, harness, {
            packageDir: pkgs[2],
            keyPem: pair.privateKeyPem,
            keyFile: join(o.rootDir, 'deploy-key.pem'),
            deployPassword: pw.deploy,
            version: ++version,
            rate: 40,
            killShare: 0.5,
          });
          // Devices act on the channel manifest only; give them time to (wrongly) act anyway.
          await new Promise((r) => setTimeout(r, 3000));
          const manifest = await readManifestVersion(harness);
          const on = countVersion(fleet, k.version);
          inject(
            `bookrec publish v${k.version} killed (${k.signal}) after ${k.chunksSeen}/${k.totalChunks} chunks`,
            `channel manifest still v${manifest}; devices running v${k.version}: ${on}`,
          );
          if (on > 0 || manifest === k.version)
            failures.push(`partial v${k.version} reached ${on} devices (manifest v${manifest})`);
        },
      },
      ...(o.brokerRestarts === 1 ? [] : [{ at: 0.65, run: () => restart() }]),
      {
        at: 0.8,
        run: async () => {
          clearInterval(dropTimer);
          const started = Date.now();
          good = await publish(pkgs[2]);
          await installed(good, `final release v${good.version}`);
          inject(
            `final clean release v${good.version}`,
            `on ${countVersion(fleet, good.version)}/${o.devices} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        },
      },
    ];
    async function restart(): Promise<void> {
      const before = await readManifestVersion(harness).catch(() => undefined);
      const r = await restartBroker(broker, harness);
      inject(
        'mosquitto kill -9 + restart on the same port',
        `down ${r.downMs} ms; retained channel manifest ${before === undefined ? 'none' : `v${before}`} before, ${r.manifestVersion === undefined ? 'none' : `v${r.manifestVersion}`} after`,
      );
    }

    for (const step of steps) {
      const jitter = (jitterRng() - 0.5) * 0.04;
      await sleepUntil(t0 + (step.at + jitter) * o.durationMs);
      await step.run().catch((err: unknown) => {
        failures.push(`injection failed: ${errorMessage(err)}`);
        inject('injection failed', errorMessage(err));
      });
    }
    await sleepUntil(t0 + o.durationMs);
    for (const t of timers.splice(0)) clearInterval(t);
    const soakMs = Date.now() - t0;
    await ledger.settle();
    // Let the last file lines be polled (200 ms) and the last MQTT deliveries be stored: wait (bounded)
    // until every written signal that is not excused is in its agent's memory; the disk check decides.
    const byDevice = new Map<string, WrittenSignal[]>();
    for (const s of ledger.written) {
      const list = byDevice.get(s.device) ?? [];
      list.push(s);
      byDevice.set(s.device, list);
    }
    await fleet
      .waitFor('signals stored', (d) => signalsIn(ledger, watch, d, byDevice.get(d.id) ?? []), 30_000)
      .catch((err: unknown) => say(`  (${errorMessage(err)}: the disk check below decides)`));
    await new Promise((r) => setTimeout(r, 2000));
    await memory.stop();
    watch.stop();

    const checks = await checkDevices(h, good, (id) => badRuns(watch, id, goodVersions));
    const lastGood = good;
    await h.stop(); // clean agent stops: histories flushed, statuses "offline"
    h = undefined;
    const histories = new Map<string, { bookId: number; kind: string; at: number }[]>();
    for (const id of ids) histories.set(id, await historyOnDisk(join(o.rootDir, 'fleet', id), 1_000_000));
    const signals = account(ledger, histories, watch);
    const mem = memory.summary();

    const without = checks.filter((c) => c.problems.length > 0).length;
    if (without > 0) failures.push(`${without} devices failed their checks`);
    failures.push(...signalFailures(signals, ledger));
    if (!mem.heap.ok) failures.push('JS heap kept growing over the second half');
    if (!mem.rss.ok) failures.push('process RSS kept growing over the second half');
    return {
      ok: failures.length === 0,
      failures,
      devices: o.devices,
      seed: o.seed,
      setupMs,
      soakMs,
      finalVersion: lastGood.version,
      injections,
      checks,
      signals,
      ledger: { skipped: ledger.skipped, unacked: ledger.unacked },
      disconnects: watch.disconnects(),
      connectionsCut,
      memory: mem,
      samples: memory.samples.length,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await h?.stop().catch(() => undefined);
    await broker.stop();
    if (!o.keep) await rm(o.rootDir, { recursive: true, force: true });
  }
}

function secret(): string {
  return randomBytes(12).toString('hex');
}

function pick<T>(items: T[], k: number, rng: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, k);
}

function countVersion(fleet: SimFleet, version: number): number {
  return fleet.devices.filter((d) => SimFleet.version(d) === version).length;
}

function fmtCodes(codes: Map<string, number>): string {
  return [...codes].map(([k, n]) => `${n} × ${k}`).join(', ');
}

async function sleepUntil(when: number): Promise<void> {
  const wait = when - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** Whether every written, not excused signal of the device is in its in-memory history (a settle wait). */
function signalsIn(
  ledger: SignalLedger,
  watch: LinkWatch,
  d: SimDevice,
  written: readonly WrittenSignal[],
): boolean {
  const have = new Set(d.service.history.entries().map((e) => e.at));
  return written.every((s) => s.writtenAt === undefined || have.has(ledger.t0 + s.id) || excused(s, watch));
}

/** Versions a device ran that were not good releases (the corrupted, forged and partial ones). */
function badRuns(watch: LinkWatch, device: string, good: ReadonlySet<number>): number[] {
  return [...(watch.ran.get(device) ?? [])].filter((v) => !good.has(v));
}
