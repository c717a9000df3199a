import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import simulate, { simulateConfig } from '../../sim/command.js';
import type { ScenarioReport } from '../../sim/scenario.js';
import { testContext } from '../helpers/cliContext.js';
import { realDataDir } from '../helpers/realData.js';

/**
 * `bookrec simulate` in-process on the real data (quick profile), small: 16 devices, a 50% canary (10%
 * of 16 would often be one or two devices, too few for the gate), 3 rounds per phase (2 left the
 * online comparison to a handful of answers; it failed once under CI load). The packages are
 * trained into the test's folder with its own cache, so the test depends on nothing left by other runs.
 * Checks the report's structure and that every count adds up; the 200-device figures come from
 * `npm run bench -- simulate`, not from a test.
 */
const DEVICES = 16;
const ROUNDS = 6;

t.test('bookrec simulate: 16 devices, better model widened, broken model stopped', async (t) => {
  const data = realDataDir(t);
  if (!data) return;
  const dir = t.testdir();
  const { ctx, out } = testContext();
  const wallStart = performance.now();
  await simulate.run(
    [
      '--data',
      data,
      '--devices',
      String(DEVICES),
      '--out',
      dir,
      '--cache',
      join(dir, 'cache'),
      '--canary-percent',
      '50',
      '--rounds',
      String(ROUNDS),
      '--gate-min-recommendations',
      '10',
      // The harness test asks by MQTT command; here the readers press the speakers' (fake) buttons.
      '--ask-via',
      'button',
    ],
    ctx,
  );
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const text = out.join('\n');
  t.match(text, /online acceptance per version/);
  t.match(text, /better model wins online: yes; broken model stopped by the gate: yes/);
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ScenarioReport;
  const saved = await readFile(join(dir, 'report.txt'), 'utf8');
  t.match(saved, /^simulated fleet: 16 devices.*button presses/);
  t.ok(text.includes(saved.trimEnd()), 'report.txt is the printed report');

  t.equal(report.devices, DEVICES);
  t.equal(report.askVia, 'button');
  t.equal(report.readers.count, DEVICES);
  t.ok(report.readers.foldInSignals > DEVICES * 4, 'every reader has a fold-in of at least 4 books');
  t.same(
    report.versions.map((v) => [v.version, v.role, v.model.name]),
    [
      [1, 'worse', 'mlp-nokd'],
      [2, 'better', 'student'],
      [3, 'broken', 'student-scrambled'],
    ],
  );
  const by = Object.fromEntries(report.versions.map((v) => [v.role, v]));
  // Offline: the order the online test must reproduce.
  t.ok(by.better.model.ndcg10.allTestReaders > by.worse.model.ndcg10.allTestReaders + 0.1);
  t.ok(by.broken.model.ndcg10.allTestReaders < 0.02, 'scrambled outputs rank like chance');

  // Counts add up: every device asks once per round; the gate's extra rounds (hold) add whole rounds.
  const answers = report.versions.reduce((n, v) => n + v.observed.recommendations, 0);
  t.equal(answers % DEVICES, 0, 'whole rounds');
  t.ok(answers >= DEVICES * ROUNDS * 3, 'three phases of rounds');
  for (const v of report.versions) {
    t.ok(v.observed.accepted <= v.observed.recommendations, `v${v.version} accepted <= answers`);
    t.equal(v.observed.fallback, 0, `v${v.version}: every answer came from the model`);
    t.equal(v.counters?.recommendations, v.observed.recommendations, `v${v.version} counters: answers`);
    t.equal(v.counters?.accepted, v.observed.accepted, `v${v.version} counters: accepted`);
    t.equal(
      (v.counters?.accepted ?? 0) + (v.counters?.skipped ?? 0),
      v.observed.recommendations,
      `v${v.version}: every answer was followed by an acceptance or a skip`,
    );
  }
  t.ok(report.countersMatchObserved);
  t.ok(by.better.observed.rate > by.worse.observed.rate, 'better wins online');
  // Scrambled outputs are random books: a reader may still, by chance, go on to one of them, so the
  // online check is against the model that learned (the gates below show the rollout stopped it).
  const rate = (v: { accepted: number; recommendations: number }) => `${v.accepted}/${v.recommendations}`;
  t.ok(
    by.broken.observed.rate < by.better.observed.rate,
    `scrambled recommendations (${rate(by.broken.observed)}) are accepted less than the better model's (${rate(by.better.observed)}); worse: ${rate(by.worse.observed)}`,
  );

  t.equal(report.gates.length, 2);
  const [first, second] = report.gates;
  t.equal(first.action, 'widened to 100%');
  t.equal(first.decisions.at(-1)?.verdict, 'widen');
  t.equal(second.action, 'rolled back');
  t.equal(second.decisions.at(-1)?.verdict, 'stop');
  // The first judgement's arms are the same rounds' answers as the simulator tallied for them.
  const canaryTally = report.canaryRounds[0].tally;
  const d = first.decisions.at(-1)!;
  t.equal(d.canary.recommendations, canaryTally.find((x) => x.version === 2)?.recommendations);
  t.equal(d.rest.recommendations, canaryTally.find((x) => x.version === 1)?.recommendations);
  t.equal(d.canary.devices + d.rest.devices, DEVICES);

  t.ok(report.phases.length >= 8);
  t.ok(report.memory.rssPeakMiB >= report.memory.baselineRssMiB);
  // The report's total covers its phases (all but stopping the fleet, which comes after the total is
  // taken) and no more than the wall time this test saw it take.
  const phaseSeconds = report.phases
    .filter((p) => p.name !== 'stop the fleet')
    .reduce((sum, p) => sum + p.seconds, 0);
  t.ok(
    report.seconds >= phaseSeconds - 1e-6 && report.seconds <= wallSeconds,
    `total ${report.seconds.toFixed(2)} s: phases ${phaseSeconds.toFixed(2)} s <= total <= wall ${wallSeconds.toFixed(2)} s`,
  );
});

t.test('simulate settings: defaults and refusals', async (t) => {
  const c = simulateConfig({ argv: [] });
  t.equal(c.devices, 200);
  t.equal(c.canaryPercent, 10);
  t.equal(c.profile, 'quick');
  t.throws(() => simulateConfig({ argv: ['--canary-percent', '100'] }), /canary-percent/);
  t.throws(() => simulateConfig({ argv: ['--devices', '0'] }), /devices/);
  t.throws(() => simulateConfig({ argv: ['--rounds', '0'] }), /rounds/);
  t.throws(() => simulateConfig({ argv: ['--profile', 'huge'] }), /profile/);
});
