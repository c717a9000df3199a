/**
 * The abort rule of `bookrec rollout --max-failure-share`: from what devices report on a release, widen
 * or stop. Pure: counts in, a verdict and the words for it out.
 *
 * - share rule, with at least `minReports` reports: stop when failed / reports > maxShare;
 * - count rule, with fewer: a share of 1 or 2 reports says little, so any failure stops. Before, too few
 *   reports meant no rule at all: one report widened a 5% rule to 100% with only an info line
 *   (issue 21). The caller says loudly that the share rule was not applied.
 */
export interface FailureShare {
  installed: number;
  failed: number;
  /** failed / (installed + failed); 0 without reports. */
  share: number;
}

export interface FailureRule {
  /** 0..1; 1: no rule. */
  maxShare: number;
  minReports: number;
}

export interface FailureJudgement {
  verdict: 'widen' | 'stop';
  /** Which rule decided: the share rule, or the count rule for fewer than minReports reports. */
  rule: 'share' | 'count';
  reason: string;
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

export function judgeFailures(f: FailureShare, rule: FailureRule): FailureJudgement {
  const reports = f.installed + f.failed;
  if (reports >= rule.minReports) {
    const over = f.share > rule.maxShare;
    return {
      verdict: over ? 'stop' : 'widen',
      rule: 'share',
      reason: `${f.failed} of ${reports} devices failed (${percent(f.share)} ${over ? '>' : '<='} ${percent(rule.maxShare)})`,
    };
  }
  const few = `only ${reports} report(s), fewer than --min-reports ${rule.minReports}: the failure share rule (at most ${percent(rule.maxShare)}) was not applied`;
  return f.failed > 0
    ? {
        verdict: 'stop',
        rule: 'count',
        reason: `${f.failed} of ${reports} devices failed; ${few}, and any failure among so few stops the rollout`,
      }
    : {
        verdict: 'widen',
        rule: 'count',
        reason: `${few}; the count rule (any failure stops) found none`,
      };
}

/** The command's line for a judgement: a warning when the share rule was not applied and it widened. */
export function describeJudgement(j: FailureJudgement): string {
  return j.rule === 'count' && j.verdict === 'widen'
    ? `WARNING: ${j.reason}`
    : `failure rule (${j.rule}): ${j.verdict}: ${j.reason}`;
}
