/**
 * The quality gate of a rollout: does the canary (the release being widened) recommend worse in the
 * field than the rest of the channel? Pure and deterministic: counts in, a verdict and its numbers out.
 *
 * - hold:  either arm has fewer than `minRecommendations` answers, or the canary looks worse by more
 *          than the margin but the evidence is not yet strong enough (wait for more data);
 * - stop:  the canary's acceptance rate is below the rest's by more than `margin`, and a one-sided
 *          two-proportion z test says so at the rule's confidence;
 * - widen: otherwise (a better canary, a tie, or one worse by no more than the margin).
 *
 * The test: H0 "rest - canary <= margin" against H1 "rest - canary > margin", with
 * z = (p_rest - p_canary - margin) / sqrt(p_rest(1-p_rest)/n_rest + p_canary(1-p_canary)/n_canary)
 * (unpooled: under H0 the two rates are not assumed equal). Stop when z > zCritical (1.645: one-sided
 * 95%). When both rates are 0 or 1 the standard error is 0; then the observed gap alone decides. Why a
 * test and not just the observed gap: with 100 answers per arm a 5-point gap is well within chance
 * (standard error ~6.5 points at a 40% rate), and stopping a good release on noise costs as much trust
 * as widening a bad one. Why "hold" rather than "widen" when the gap is large but not significant:
 * widening a release that looks worse is the one mistake the gate exists to prevent.
 */
export interface ArmCounts {
  devices: number;
  recommendations: number;
  accepted: number;
  skipped: number;
}

export interface GateRule {
  /** Absolute acceptance-rate margin, e.g. 0.02. */
  margin: number;
  /** Per arm. */
  minRecommendations: number;
  /** One-sided critical z value (default 1.645, 95%). */
  zCritical?: number;
}

export type GateVerdict = 'widen' | 'hold' | 'stop';

export interface GateDecision {
  verdict: GateVerdict;
  reason: string;
  canary: ArmCounts & { rate: number };
  rest: ArmCounts & { rate: number };
  /** canary rate - rest rate (negative: the canary is worse). */
  difference: number;
}

export const DEFAULT_Z_CRITICAL = 1.645;

export function acceptanceRate(arm: ArmCounts): number {
  return arm.recommendations > 0 ? arm.accepted / arm.recommendations : 0;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function judgeCanary(canary: ArmCounts, rest: ArmCounts, rule: GateRule): GateDecision {
  const c = { ...canary, rate: acceptanceRate(canary) };
  const r = { ...rest, rate: acceptanceRate(rest) };
  const difference = c.rate - r.rate;
  const decide = (verdict: GateVerdict, reason: string): GateDecision => ({
    verdict,
    reason,
    canary: c,
    rest: r,
    difference,
  });
  // Zero answers never judge anything, whatever minimum was asked for.
  const needed = Math.max(1, rule.minRecommendations);
  if (c.recommendations < needed || r.recommendations < needed) {
    return decide(
      'hold',
      `too little data: canary ${c.recommendations} and rest ${r.recommendations} recommendations, ${needed} needed per arm`,
    );
  }
  const summary = `canary ${pct(c.rate)} (${c.accepted}/${c.recommendations}) vs rest ${pct(r.rate)} (${r.accepted}/${r.recommendations})`;
  const gap = r.rate - c.rate;
  if (!(gap > rule.margin)) {
    return decide('widen', `${summary}: not worse by more than the margin ${pct(rule.margin)}`);
  }
  const se = Math.sqrt(
    (r.rate * (1 - r.rate)) / r.recommendations + (c.rate * (1 - c.rate)) / c.recommendations,
  );
  const z = se === 0 ? Number.POSITIVE_INFINITY : (gap - rule.margin) / se;
  const critical = rule.zCritical ?? DEFAULT_Z_CRITICAL;
  const zText = Number.isFinite(z) ? z.toFixed(2) : 'inf';
  if (z > critical) {
    return decide(
      'stop',
      `${summary}: worse by ${pct(gap)}, more than the margin ${pct(rule.margin)} (z = ${zText} > ${critical})`,
    );
  }
  return decide(
    'hold',
    `${summary}: worse by ${pct(gap)} but not yet significant beyond the margin ${pct(rule.margin)} (z = ${zText} <= ${critical}); waiting for more data`,
  );
}
