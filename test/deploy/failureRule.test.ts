import t from 'tap';
import { describeJudgement, type FailureShare, judgeFailures } from '../../deploy/failureRule.js';

const reports = (installed: number, failed: number): FailureShare => ({
  installed,
  failed,
  share: installed + failed === 0 ? 0 : failed / (installed + failed),
});
const rule = { maxShare: 0.05, minReports: 5 };

t.test('enough reports: the share rule decides', async (t) => {
  t.match(judgeFailures(reports(19, 1), rule), {
    verdict: 'widen',
    rule: 'share',
    reason: '1 of 20 devices failed (5.0% <= 5.0%)',
  });
  t.match(judgeFailures(reports(4, 1), rule), {
    verdict: 'stop',
    rule: 'share',
    reason: '1 of 5 devices failed (20.0% > 5.0%)',
  });
});

t.test('fewer than min-reports: any failure stops (the count rule)', async (t) => {
  // Issue 21: --max-failure-share 0.05 with one report widened to 100% with only an info line.
  const one = judgeFailures(reports(0, 1), rule);
  t.match(one, { verdict: 'stop', rule: 'count' });
  t.match(one.reason, /^1 of 1 devices failed; only 1 report\(s\), fewer than --min-reports 5/);
  t.match(judgeFailures(reports(3, 1), rule), { verdict: 'stop', rule: 'count' }, '1 of 4: 25%');
  // Even a rule that allows a large share: 1 of 4 is within 50%, but 4 reports cannot show that.
  t.match(judgeFailures(reports(3, 1), { maxShare: 0.5, minReports: 5 }), { verdict: 'stop', rule: 'count' });
});

t.test('fewer than min-reports and no failure: widen, and say the share rule was not applied', async (t) => {
  const j = judgeFailures(reports(1, 0), rule);
  t.match(j, { verdict: 'widen', rule: 'count' });
  t.equal(
    describeJudgement(j),
    'WARNING: only 1 report(s), fewer than --min-reports 5: the failure share rule (at most 5.0%) was not applied; the count rule (any failure stops) found none',
  );
  t.match(judgeFailures(reports(0, 0), rule), { verdict: 'widen', rule: 'count', reason: /only 0 report/ });
  t.match(describeJudgement(judgeFailures(reports(20, 0), rule)), /^failure rule \(share\): widen: 0 of 20/);
});

t.test('min-reports 0: the share rule always applies', async (t) => {
  t.match(judgeFailures(reports(0, 0), { maxShare: 0.05, minReports: 0 }), {
    verdict: 'widen',
    rule: 'share',
  });
  t.match(judgeFailures(reports(0, 1), { maxShare: 0.05, minReports: 0 }), {
    verdict: 'stop',
    rule: 'share',
  });
});
