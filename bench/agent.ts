import { execFile, spawn } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ModelStore } from '../agent/modelStore.js';
import { createMemoryLogger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';
import { chunkCount } from '../common/protocol/chunker.js';
import { MANIFEST_FORMAT } from '../common/protocol/manifest.js';
import { generateSigningKey, signManifest } from '../common/protocol/signing.js';
import { memoryBreakdown } from './agentMemory.js';
import { BENCH_BOOKS, benchCatalogue, writeBenchPackage } from './agentModel.js';
import { unitEnvironment } from './unitEnvironment.js';

/**
 * The speaker agent on this machine: trigger -> ranked list (p50/p99, ranking only) over 1,000
 * recommendations and the agent's RSS after them; trigger -> end of speech synthesis (espeak-ng WAV);
 * cold start of `bookrec agent` to READY (spawn -> the systemd READY notification, seen through a fake
 * systemd-notify on PATH). The model is a full-size student shape with RANDOM weights (bench/agentModel.ts)
 * until the trained goodbooks student exists. Targets (issue 5): p99 < 50 ms, RSS < 150 MB. Then where the
 * agent's resident memory goes, as a table (bench/agentMemory.ts), with a full history (BENCH_HISTORY
 * events, default 5,000: history.maxEvents).
 * Run: npm run build && node dist/bench/run.js agent
 *   BENCH_PACKAGE=out/full/package   a trained package instead of random weights
 *   BENCH_BOOKS=80000                the random-weight student for that many books (synthetic titles past 10,000)
 */
const RECOMMENDATIONS = 1000;
const SPOKEN = 30;
const COLD_STARTS = 3;
const HISTORY_EVENTS = Number(process.env.BENCH_HISTORY ?? 5000);

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface ChildFigures {
  rankMs: number[];
  speechMs: number[];
  rssAfterMb: number;
  maxRssMb: number;
  books: number;
  outboxDropped: number;
}

/** Installs the package the way the updater does (staging, self-test, symlink switch). */
async function installInto(stateDir: string, pkgDir: string): Promise<void> {
  const names = (await readdir(pkgDir)).sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, data: await readFile(join(pkgDir, name)) })),
  );
  const pair = generateSigningKey();
  const manifest = signManifest(
    {
      format: MANIFEST_FORMAT,
      channel: 'stable',
      model: 'bench',
      version: 1,
      serial: 1,
      createdAt: new Date().toISOString(),
      files: files.map((f) => ({
        name: f.name,
        size: f.data.length,
        sha256: createHash('sha256').update(f.data).digest('hex'),
        chunkSize: 65536,
        chunks: chunkCount(f.data.length, 65536),
      })),
      rollout: { percent: 100, salt: 'bench' },
      minAgentVersion: '0.1.0',
      metrics: {},
      rollback: false,
      previousVersion: null,
    },
    createPrivateKey(pair.privateKeyPem),
  );
  const store = new ModelStore({ stateDir, log: createMemoryLogger() });
  await store.start();
  await store.install({ manifest, files });
  await store.stop();
}

/** Spawn -> READY=1, through a stand-in systemd-notify that appends its arguments to a file. */
async function coldStart(
  dir: string,
  stateDir: string,
  unitEnv: Record<string, string>,
): Promise<{ readyMs: number; stopMs: number }> {
  const bin = join(dir, 'bin');
  const notes = join(dir, `notify-${Date.now()}.log`);
  await writeFile(join(dir, 'bin-placeholder'), '');
  await run('mkdir', ['-p', bin]);
  await writeFile(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> "${notes}"\n`);
  await chmod(join(bin, 'systemd-notify'), 0o755);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      join(here, '..', 'cli', 'bookrec.js'),
      'agent',
      '--state-dir',
      stateDir,
      '--broker',
      'mqtt://127.0.0.1:1',
      '--backend',
      'wasm',
      '--tts',
      'none',
    ],
    {
      env: {
        ...process.env,
        ...unitEnv,
        PATH: `${bin}:${process.env.PATH}`,
        NOTIFY_SOCKET: '/run/bench-notify',
        BOOKREC_DEVICE_ID: 'bench-device',
        BOOKREC_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let readyMs = Number.NaN;
  for (;;) {
    const text = await readFile(notes, 'utf8').catch(() => '');
    if (text.includes('--ready')) {
      readyMs = performance.now() - started;
      break;
    }
    if (child.exitCode !== null || performance.now() - started > 60_000) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const stopping = performance.now();
  child.kill('SIGTERM');
  await exited;
  return { readyMs, stopMs: performance.now() - stopping };
}

export default async function bench(print: (text: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-bench-agent-'));
  try {
    await useBackend('wasm');
    // BENCH_PACKAGE: a trained package (e.g. out/full/package) instead of random weights in its shape.
    const trained = process.env.BENCH_PACKAGE;
    const pkgDir = trained ?? join(dir, 'package');
    if (trained) print(`model: the trained package ${trained}`);
    else {
      const { books, real } = await benchCatalogue(Number(process.env.BENCH_BOOKS ?? BENCH_BOOKS));
      await writeBenchPackage(pkgDir, books);
      const weights = (await readFile(join(pkgDir, 'weights.bin'))).length;
      print(
        `model: RANDOM weights in the shipped student's shape (N = ${books.length}, SparseFanIn fanIn 16, float16${books.length > 65_536 ? ', neighbour indices float32: past uint16' : ''}, weights.bin ${(weights / 1e6).toFixed(2)} MB); catalogue: ${real ? 'real goodbooks books.csv' : 'synthetic'}`,
      );
    }
    const stateDir = join(dir, 'state');
    await installInto(stateDir, pkgDir);
    // The agent runs as the systemd unit runs it (its Environment= lines: V8 and malloc sizing).
    const unitEnv = await unitEnvironment();
    print(`agent processes run with the unit's environment: ${JSON.stringify(unitEnv)}`);
    const env = { ...process.env, ...unitEnv };
    const { stdout } = await run(
      process.execPath,
      [join(here, 'agentChild.js'), stateDir, String(RECOMMENDATIONS), String(SPOKEN)],
      { maxBuffer: 16 << 20, env },
    );
    const f = JSON.parse(stdout) as ChildFigures;
    const fmt = (v: number) => v.toFixed(2);
    print(`trigger -> ranked list (ranking only), ${f.rankMs.length} recommendations, 40-event history:`);
    print(
      `  p50 ${fmt(pct(f.rankMs, 50))} ms   p99 ${fmt(pct(f.rankMs, 99))} ms   max ${fmt(Math.max(...f.rankMs))} ms   (target p99 < 50 ms: ${pct(f.rankMs, 99) < 50 ? 'met' : 'NOT met'})`,
    );
    print(
      `agent RSS after ${f.rankMs.length} recommendations: ${f.rssAfterMb.toFixed(1)} MB (peak ${f.maxRssMb.toFixed(1)} MB; target < 150 MB: ${f.rssAfterMb < 150 ? 'met' : 'NOT met'})`,
    );
    if (f.speechMs.length > 0) {
      print(`trigger -> end of speech synthesis (espeak-ng WAV, 3 books), ${f.speechMs.length} runs:`);
      print(`  p50 ${pct(f.speechMs, 50).toFixed(0)} ms   p99 ${pct(f.speechMs, 99).toFixed(0)} ms`);
    } else print('trigger -> speech: espeak-ng not available, not measured');
    const starts: { readyMs: number; stopMs: number }[] = [];
    for (let i = 0; i < COLD_STARTS; i++) starts.push(await coldStart(dir, stateDir, unitEnv));
    print(
      `cold start of \`bookrec agent\` to READY (node start, model load + self-test with the JS engine, history): ${starts.map((s) => `${(s.readyMs / 1000).toFixed(2)} s`).join(', ')}; SIGTERM -> exit ${starts.map((s) => `${s.stopMs.toFixed(0)} ms`).join(', ')}`,
    );
    await memoryBreakdown(
      stateDir,
      { books: f.books, historyEvents: HISTORY_EVENTS, recommendations: RECOMMENDATIONS, env },
      print,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
