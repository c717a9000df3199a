import { BookrecError } from '../common/errors.js';
import { parseCounters } from '../common/protocol/counters.js';
import { QualityView } from '../deploy/fleetQuality.js';
import type { GateDecision } from '../deploy/qualityGate.js';
import { GateError, type GateOptions } from '../deploy/rolloutGate.js';
import type { Harness } from './harness.js';

/**
 * The online quality side of the simulation: waiting until what the agents counted has reached the
 * broker (the gate reads only retained counters, like in the field), and one gated widening with its
 * decision caught rather than thrown.
 */

/** Per device: the totals of its counters (recommendations, accepted, skipped) as one comparable key. */
function totals(versions: { recommendations: number; accepted: number; skipped: number }[]): string {
  let r = 0;
  let a = 0;
  let s = 0;
  for (const v of versions) {
    r += v.recommendations;
    a += v.accepted;
    s += v.skipped;
  }
  return `${r}/${a}/${s}`;
}

/**
 * Waits until every device's retained counters on the broker equal what the agent holds in memory
 * (the agents publish on their schedule, `--quality-publish-seconds`), and returns that view.
 */
export async function syncedQuality(h: Harness, timeoutMs = 30_000): Promise<QualityView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await h.deployer.retained('counters');
    const view = new QualityView();
    const remote = new Map<string, string>();
    for (const [topic, payload] of found) {
      view.apply(h.topics, topic, payload);
      const id = h.topics.parseDevice(topic, 'counters');
      const parsed = parseCounters(payload);
      if (id && parsed.ok) remote.set(id, totals(parsed.counters.versions));
    }
    const behind = h.fleet.devices.filter((d) => {
      const local = d.service.quality.snapshot().versions;
      return local.length > 0 && remote.get(d.id) !== totals(local);
    });
    if (behind.length === 0) return view;
    if (Date.now() > deadline) {
      throw new BookrecError(
        'SIM_TIMEOUT',
        `quality counters of ${behind.length} devices not on the broker after ${timeoutMs} ms (${behind
          .slice(0, 5)
          .map(
            (d) =>
              `${d.id}: broker ${remote.get(d.id) ?? 'none'}, agent ${totals(d.service.quality.snapshot().versions)}`,
          )
          .join(', ')})`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface GatedWidening {
  decisions: GateDecision[];
  /** What the gate let happen: widened to the percent, or stopped/held (the manifest kept its percent). */
  outcome: 'widened' | 'stop' | 'hold';
}

/** One call of deploy's gated rollout; every decision is recorded, a GateError becomes the outcome. */
export async function gatedWiden(h: Harness, percent: number, gate: GateOptions): Promise<GatedWidening> {
  const decisions: GateDecision[] = [];
  const previous = h.deployer.ctx.onGate;
  h.deployer.ctx.onGate = (d) => decisions.push(d);
  try {
    await h.deployer.widen(percent, gate);
    return { decisions, outcome: 'widened' };
  } catch (err) {
    if (err instanceof GateError)
      return { decisions, outcome: err.decision.verdict === 'stop' ? 'stop' : 'hold' };
    throw err;
  } finally {
    h.deployer.ctx.onGate = previous;
  }
}
