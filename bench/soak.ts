import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BookrecError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { renderKillReport, runKillSoak } from './soak/killSoak.js';
import { renderReport } from './soak/report.js';
import { runSoak } from './soak/soak.js';

/**
 * The chaos soak (docs/simulator.md, "Chaos soak"): the simulated fleet on a real mosquitto under
 * broker kills, dropped connections, a corrupted release, a forged manifest and a killed publisher,
 * with signals flowing, for a bounded time; then real agent processes SIGKILLed mid-write, again and
 * again (bench/soak/killSoak.ts). Settings: SOAK_SECONDS (default 180, at most 1800), SOAK_DEVICES
 * (default 50), SOAK_SEED (default 1), KILL_SOAK_SECONDS (default 120), KILL_SOAK_AGENTS (default 3).
 * Throws (non-zero exit) when a check fails.
 */
export default async function soakBench(print: (text: string) => void): Promise<void> {
  const seconds = setting('SOAK_SECONDS', 180, 20, 1800);
  const devices = setting('SOAK_DEVICES', 50, 2, 500);
  const seed = setting('SOAK_SEED', 1, 0, 2 ** 31);
  const report = await runSoak({
    devices,
    durationMs: seconds * 1000,
    seed,
    rootDir: join(tmpdir(), `bookrec-soak-${process.pid}`),
    log: createLogger({ level: 'error' }),
    progress: print,
  });
  print('');
  print(renderReport(report));
  const killSeconds = setting('KILL_SOAK_SECONDS', 120, 20, 1800);
  const agents = setting('KILL_SOAK_AGENTS', 3, 1, 20);
  print('');
  const kills = await runKillSoak({
    agents,
    durationMs: killSeconds * 1000,
    seed,
    rootDir: join(tmpdir(), `bookrec-kill-soak-${process.pid}`),
    log: createLogger({ level: 'error' }),
    progress: print,
  });
  print('');
  print(renderKillReport(kills));
  const failures = [...report.failures, ...kills.failures];
  if (failures.length > 0) throw new BookrecError('SOAK_FAILED', `chaos soak failed: ${failures.join('; ')}`);
}

function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new BookrecError('USAGE', `${name} must be an integer in ${min}..${max}, got ${raw}`);
  }
  return v;
}
