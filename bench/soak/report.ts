import type { Accounting } from './accounting.js';
import type { DeviceCheck } from './checks.js';
import type { SeriesSummary } from './memory.js';

/** What a soak found, and its text form (printed by the bench, quoted in docs/results.md). */
export interface SoakReport {
  ok: boolean;
  failures: string[];
  devices: number;
  seed: number;
  setupMs: number;
  /** The soak proper: from the first signal to the last, faults included. */
  soakMs: number;
  finalVersion: number;
  injections: { t: number; what: string; outcome: string }[];
  checks: DeviceCheck[];
  signals: Accounting;
  ledger: { skipped: number; unacked: number };
  /** Times a device's link went down (as its agent saw it). */
  disconnects: number;
  /** Device connections the relay cut on purpose. */
  connectionsCut: number;
  memory: { heap: SeriesSummary; rss: SeriesSummary; broker: SeriesSummary | undefined };
  samples: number;
}

export function renderReport(r: SoakReport): string {
  const out: string[] = [];
  const s = r.signals;
  const bad = r.checks.filter((c) => c.problems.length > 0);
  out.push(
    `chaos soak: ${r.devices} devices, ${(r.soakMs / 1000).toFixed(1)} s of faults and signals (setup ${(r.setupMs / 1000).toFixed(1)} s), seed ${r.seed}`,
  );
  out.push(`injections (${r.injections.length}, time since the soak began):`);
  for (const i of r.injections) out.push(`  ${i.t.toFixed(1).padStart(6)} s  ${i.what}: ${i.outcome}`);
  out.push(
    `device link drops seen by the agents: ${r.disconnects} (connections cut by the relay: ${r.connectionsCut})`,
  );
  out.push(
    `devices: ${r.devices - bad.length}/${r.devices} run v${r.finalVersion} (files re-hashed = signed sha256), retained status online with model v${r.finalVersion} and lastUpdate v${r.finalVersion} installed; ${bad.length} without`,
  );
  for (const c of bad.slice(0, 10)) out.push(`  ${c.device}: ${c.problems.join('; ')}`);
  out.push('signals (found = in the device history on disk after the soak):');
  out.push('  way   sent  written  found  excused  lost  extra');
  for (const [name, t] of [
    ['file', s.file],
    ['mqtt', s.mqtt],
  ] as const) {
    out.push(
      `  ${name.padEnd(4)} ${String(t.sent).padStart(6)} ${String(t.written).padStart(8)} ${String(t.found).padStart(6)} ${String(t.excused).padStart(8)} ${String(t.lost).padStart(5)} ${String(t.extra).padStart(6)}`,
    );
  }
  out.push(
    `  lost signals: ${s.file.lost + s.mqtt.lost}; duplicates ${s.duplicates}; mismatched ${s.mismatched}; writes skipped while the broker was down ${r.ledger.skipped}; MQTT publishes never acknowledged ${r.ledger.unacked}`,
  );
  for (const l of s.lostSamples) out.push(`  lost: ${l}`);
  out.push(`memory (${r.samples} samples; growth = least-squares slope over the second half):`);
  const line = (name: string, m: SeriesSummary | undefined, note = '') => {
    if (!m) return;
    out.push(
      `  ${name.padEnd(12)} first ${m.first.toFixed(1)} MiB, last ${m.last.toFixed(1)}, max ${m.max.toFixed(1)}; second half ${m.slopePerMin >= 0 ? '+' : ''}${m.slopePerMin.toFixed(2)} MiB/min (${m.halfGrowth >= 0 ? '+' : ''}${m.halfGrowth.toFixed(1)} MiB over a mean of ${m.halfMean.toFixed(1)}) ${m.ok ? 'bounded' : 'GROWING'}${note}`,
    );
  };
  line('JS heap', r.memory.heap);
  line('process RSS', r.memory.rss);
  // The broker is a new process after every kill: its series is shown, the checks are on the soak's own.
  line('mosquitto', r.memory.broker, ' (shown, not checked: restarted by the soak)');
  out.push(r.ok ? 'result: PASS' : `result: FAIL (${r.failures.join('; ')})`);
  return out.join('\n');
}
