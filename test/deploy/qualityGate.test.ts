import t from 'tap';
import { type ArmCounts, judgeCanary } from '../../deploy/qualityGate.js';

const arm = (recommendations: number, accepted: number, devices = 10, skipped = 0): ArmCounts => ({
  devices,
  recommendations,
  accepted,
  skipped,
});
const rule = { margin: 0.02, minRecommendations: 100 };

t.test('a better canary widens', async (t) => {
  const d = judgeCanary(arm(400, 200), arm(4000, 1200), rule);
  t.equal(d.verdict, 'widen');
  t.equal(d.canary.rate, 0.5);
  t.equal(d.rest.rate, 0.3);
  t.ok(Math.abs(d.difference - 0.2) < 1e-12);
  t.match(d.reason, /canary 50\.0% \(200\/400\) vs rest 30\.0% \(1200\/4000\)/);
});

t.test('a clearly worse canary stops, with its numbers', async (t) => {
  const d = judgeCanary(arm(400, 80, 20, 50), arm(4000, 1600, 180), rule);
  t.equal(d.verdict, 'stop');
  t.match(d.reason, /worse by 20\.0%, more than the margin 2\.0% \(z = \d+\.\d+ > 1\.645\)/);
  t.same(d.canary, { devices: 20, recommendations: 400, accepted: 80, skipped: 50, rate: 0.2 });
});

t.test('too little data on either arm holds', async (t) => {
  t.equal(judgeCanary(arm(99, 0), arm(4000, 1600), rule).verdict, 'hold', 'canary short');
  t.equal(judgeCanary(arm(400, 0), arm(99, 99), rule).verdict, 'hold', 'rest short');
  t.match(judgeCanary(arm(99, 0), arm(4000, 1600), rule).reason, /too little data: canary 99 and rest 4000/);
});

t.test('a tie, or worse within the margin, widens', async (t) => {
  t.equal(judgeCanary(arm(1000, 400), arm(1000, 400), rule).verdict, 'widen', 'tie');
  t.equal(judgeCanary(arm(1000, 385), arm(1000, 400), rule).verdict, 'widen', '1.5 points worse');
  t.equal(judgeCanary(arm(100, 30), arm(100, 30), { margin: 0, minRecommendations: 100 }).verdict, 'widen');
});

t.test('worse beyond the margin but not significant holds', async (t) => {
  // 5 points worse with 100 answers per arm is well within chance.
  const d = judgeCanary(arm(100, 35), arm(100, 40), rule);
  t.equal(d.verdict, 'hold');
  t.match(d.reason, /not yet significant/);
  // The same gap on 20,000 answers per arm is not.
  t.equal(judgeCanary(arm(20_000, 7000), arm(20_000, 8000), rule).verdict, 'stop');
});

t.test('edge cases: zero recommendations, rates of 0 and 1', async (t) => {
  const none = judgeCanary(arm(0, 0, 0), arm(0, 0, 0), { margin: 0.02, minRecommendations: 0 });
  t.equal(none.verdict, 'hold', 'no answers never judge, even with a minimum of 0');
  t.equal(none.canary.rate, 0);
  t.equal(none.difference, 0);
  const zeroVsOne = judgeCanary(arm(100, 0), arm(100, 100), rule);
  t.equal(zeroVsOne.verdict, 'stop', 'standard error 0: the observed gap decides');
  t.match(zeroVsOne.reason, /z = inf/);
  t.equal(judgeCanary(arm(100, 100), arm(100, 0), rule).verdict, 'widen');
  t.equal(judgeCanary(arm(100, 0), arm(100, 0), rule).verdict, 'widen', 'both zero: a tie');
  t.equal(judgeCanary(arm(100, 0), arm(100, 0), { ...rule, zCritical: 3 }).verdict, 'widen');
});

t.test('deterministic: the same counts give the same decision', async (t) => {
  t.same(judgeCanary(arm(300, 90), arm(3000, 1000), rule), judgeCanary(arm(300, 90), arm(3000, 1000), rule));
});
