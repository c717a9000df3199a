/**
 * Release fan-out at fleet scale: FANOUT_DEVICES (default 10000) protocol-level devices (bench/fanout/
 * device.ts: MQTT 3.1.1 over node:net, the agent's manifest check, sha256 of every file) receive one
 * signed ~1 MiB release (64 KiB chunks, as in production) from one mosquitto, then from an edge mosquitto
 * bridged to the core the operator publishes to. Devices are spread over FANOUT_WORKERS (default 2)
 * processes. Run: npm run build && npm run bench -- fanout
 */
import { cpus, loadavg } from 'node:os';
import type { Topology } from './fanout/brokers.js';
import { type FanoutReport, runFanout } from './fanout/run.js';

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function envCount(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${text} must be a positive integer`);
  return n;
}

function print(report: FanoutReport, out: (text: string) => void): void {
  out(
    `devices connected: ${report.connected}/${report.devices} in ${seconds(report.connectMs)} (${report.workers} worker processes)`,
  );
  out(`publish (record, chunks, manifest acknowledged): ${seconds(report.publishMs)}`);
  const all = report.verified === report.devices;
  out(
    `verified: ${report.verified}/${report.devices}; ${all ? 'all verified' : 'NOT all verified'} ${seconds(report.allVerifiedMs)} after the publish began`,
  );
  const codes = new Map<string, number>();
  for (const f of report.failed) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
  for (const [code, n] of codes) out(`  failed ${code}: ${n}`);
  for (const f of report.failed.slice(0, 5)) out(`  e.g. ${f.id}: ${f.code} ${f.reason}`);
  if (report.unfinished.length > 0) {
    out(
      `  unfinished: ${report.unfinished.length}, e.g. ${report.unfinished[0].id} waiting for ${report.unfinished[0].waitingFor}`,
    );
  }
  for (const b of report.brokers) {
    out(
      `broker ${b.name}: RSS ${mib(b.connectedKiB)} with devices connected, peak ${mib(b.deliveryPeakKiB)} during delivery (sampled), VmHWM ${mib(b.hwmKiB)}`,
    );
  }
  report.workerMemory.forEach((m, i) => {
    out(`device process ${i + 1}: RSS ${mib(m.rss)}, VmHWM ${mib(m.peak)}`);
  });
}

export default async function bench(out: (text: string) => void): Promise<void> {
  const devices = envCount('FANOUT_DEVICES', 10_000);
  const workers = envCount('FANOUT_WORKERS', 2);
  out(
    `${devices} devices, ${workers} device processes, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out(
    'release: weights.bin 1 MiB + model.json, 64 KiB chunks, signed Ed25519; mosquitto production config and ACL, persistence off',
  );
  for (const topology of ['single', 'bridged'] satisfies Topology[]) {
    out('');
    out(
      topology === 'single'
        ? '-- one mosquitto'
        : '-- core mosquitto <- bridge <- edge mosquitto (devices on the edge)',
    );
    const report = await runFanout({
      topology,
      devices,
      workers,
      batch: 100,
      packageBytes: 1024 * 1024,
      chunkBytes: 64 * 1024,
      timeoutMs: envCount('FANOUT_TIMEOUT_MS', 600_000),
      progress: (line) => out(`  ${line}`),
    });
    print(report, out);
    out(
      `load after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  }
}
