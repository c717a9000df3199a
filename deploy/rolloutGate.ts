import { BookrecError } from '../common/errors.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import type { RolloutContext } from './channelState.js';
import { readArms } from './fleetQuality.js';
import { count } from './fleetTable.js';
import { type GateDecision, type GateRule, judgeCanary } from './qualityGate.js';

/**
 * The quality gate inside `bookrec rollout`: before each widening step, compare the release's counters
 * (the canary) with the rest of the channel. "hold" re-reads the counters every pollMs until waitMs
 * has passed; a decision that is still "hold" then, or a "stop", ends the widening with a GateError
 * carrying the decision (the command prints it and, for "stop" with action rollback, rolls back).
 */
export interface GateOptions {
  rule: GateRule;
  /** On "stop": keep the percent (hold) or also publish the rollback (rollback). */
  action: 'hold' | 'rollback';
  /** Longest wait for enough data before one widening step. */
  waitMs: number;
  pollMs: number;
}

export class GateError extends BookrecError {
  readonly decision: GateDecision;
  readonly manifest: SignedManifest;

  constructor(decision: GateDecision, manifest: SignedManifest) {
    const what =
      decision.verdict === 'stop'
        ? 'the canary recommends worse than the rest of the channel'
        : 'not enough evidence to widen within the wait';
    super(
      decision.verdict === 'stop' ? 'ROLLOUT_GATE_STOP' : 'ROLLOUT_GATE_HOLD',
      `rollout of ${manifest.channel} version ${manifest.version} stopped at ${manifest.rollout.percent}%: ${what}: ${decision.reason}`,
    );
    this.name = 'GateError';
    this.decision = decision;
    this.manifest = manifest;
  }
}

/** Judges until the verdict is not "hold" or the wait is over; returns the widen decision or throws. */
export async function gateBeforeWidening(
  ctx: RolloutContext,
  manifest: SignedManifest,
  gate: GateOptions,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
): Promise<GateDecision> {
  const now = ctx.now ?? Date.now;
  const started = now();
  for (;;) {
    const arms = await readArms(ctx, manifest.channel, manifest.version);
    const decision = judgeCanary(arms.canary, arms.rest, gate.rule);
    ctx.log.info('quality gate', {
      version: manifest.version,
      verdict: decision.verdict,
      reason: decision.reason,
      canary: decision.canary,
      rest: decision.rest,
    });
    ctx.onGate?.(decision);
    if (decision.verdict === 'widen') return decision;
    if (decision.verdict === 'stop' || now() - started + gate.pollMs > gate.waitMs) {
      throw new GateError(decision, manifest);
    }
    await sleep(gate.pollMs, ctx.signal);
  }
}

/** One line per decision, for people: verdict and the numbers behind it. */
export function describeDecision(d: GateDecision): string {
  const arm = (name: string, a: GateDecision['canary']) =>
    `${name}: ${count(a.devices, 'device')}, ${a.recommendations} recommendations, ${a.accepted} accepted, ${a.skipped} skipped, rate ${(a.rate * 100).toFixed(1)}%`;
  return [
    `quality gate: ${d.verdict} (difference ${(d.difference * 100).toFixed(1)} points)`,
    `  ${arm('canary', d.canary)}`,
    `  ${arm('rest  ', d.rest)}`,
    `  ${d.reason}`,
  ].join('\n');
}
