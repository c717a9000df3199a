import type { GateDecision } from '../deploy/qualityGate.js';
import type { ScenarioReport } from './scenario.js';

/** The simulator's report as text for people (the JSON is the same object, written beside it). */

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f4 = (x: number) => x.toFixed(4);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function decisionLine(d: GateDecision): string {
  const arm = (a: GateDecision['canary']) =>
    `${pct(a.rate)} (${a.accepted}/${a.recommendations}, ${a.devices} devices)`;
  return `${d.verdict}: canary ${arm(d.canary)} vs rest ${arm(d.rest)}, difference ${(d.difference * 100).toFixed(1)} points`;
}

export function renderReport(r: ScenarioReport): string {
  const out: string[] = [];
  out.push(
    `simulated fleet: ${r.devices} devices (real agent cores, one process, each its own MQTT connection), ` +
      `${r.profile} profile, seed ${r.seed}, ${r.rounds} ask rounds per phase (${r.askVia === 'button' ? 'button presses' : 'MQTT commands'}), canary ${r.canaryPercent}%`,
  );
  out.push(
    `readers: ${r.readers.count} held-out test readers, ${r.readers.foldInSignals} fold-in signals, ` +
      `${r.readers.targetsMean.toFixed(1)} target books each on average`,
  );
  out.push('');
  out.push(
    'online acceptance per version (accepted: a recommended book among the reader’s targets) vs offline NDCG@10',
  );
  out.push(
    ...table(
      [
        'version',
        'model',
        'NDCG@10 all test',
        'NDCG@10 these readers',
        'devices',
        'answers',
        'accepted',
        'acceptance',
        'agents’ counters',
      ],
      r.versions.map((v) => [
        String(v.version),
        `${v.model.name} (${v.role})`,
        f4(v.model.ndcg10.allTestReaders),
        f4(v.model.ndcg10.simulatedReaders),
        String(v.observed.devices),
        String(v.observed.recommendations),
        String(v.observed.accepted),
        pct(v.observed.rate),
        v.counters ? `${v.counters.accepted}/${v.counters.recommendations} (${pct(v.counters.rate)})` : '-',
      ]),
    ),
  );
  out.push('');
  out.push('same rounds, canary vs rest (what the gate compared):');
  for (const c of r.canaryRounds) {
    const parts = c.tally
      .sort((a, b) => a.version - b.version)
      .map(
        (t) =>
          `v${t.version} ${t.accepted}/${t.recommendations} (${pct(t.recommendations ? t.accepted / t.recommendations : 0)})`,
      );
    out.push(`  ${c.phase}: ${parts.join(', ')}`);
  }
  out.push('');
  out.push(
    `quality gate (deploy's, margin ${pct(r.rule.margin)}, at least ${r.rule.minRecommendations} answers per arm):`,
  );
  for (const g of r.gates) {
    out.push(`  ${g.release} v${g.version}: ${g.decisions.length} judgement(s), then ${g.action}`);
    for (const d of g.decisions) out.push(`    ${decisionLine(d)}`);
    const last = g.decisions.at(-1);
    if (last) out.push(`    ${last.reason}`);
  }
  out.push('');
  out.push('phases (wall time, process RSS at the end of the step):');
  for (const p of r.phases)
    out.push(
      `  ${p.name.padEnd(48)} ${p.seconds.toFixed(1).padStart(6)} s ${String(p.rssMiB).padStart(7)} MiB`,
    );
  out.push(
    `memory: RSS peak ${r.memory.rssPeakMiB} MiB (before the run ${r.memory.baselineRssMiB} MiB), ` +
      `at the end ${r.memory.rssEndMiB} MiB, JS heap ${r.memory.heapUsedEndMiB} MiB`,
  );
  const warnings = Object.entries(r.agentWarnings).map(([m, n]) => `${n} x ${m}`);
  out.push(
    `total: ${r.seconds.toFixed(1)} s; agents' warnings/errors: ${warnings.length > 0 ? warnings.join('; ') : 'none'}`,
  );
  out.push('');
  out.push(
    `result: better model wins online: ${r.betterWinsOnline ? 'yes' : 'NO'}; broken model stopped by the gate: ${
      r.brokenStopped ? 'yes' : 'NO'
    }; agents' counters equal the simulator's tally: ${r.countersMatchObserved ? 'yes' : 'NO'}`,
  );
  return out.join('\n');
}
