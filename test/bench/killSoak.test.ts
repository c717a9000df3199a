import { join } from 'node:path';
import t from 'tap';
import { renderKillReport, runKillSoak } from '../../bench/soak/killSoak.js';
import { createMemoryLogger } from '../../common/log.js';
import { scaled } from '../helpers/time.js';

/**
 * The kill soak, small: 2 real agent processes on a real mosquitto, SIGKILLed for 40 s at the moments
 * it aims at (history snapshot, signals position, update report, release download and staging, any
 * time), each started again at once. Every agent must end on the last release with its files intact,
 * no unfinished write left, and every written signal in its history once. It needs mosquitto and the
 * built CLI (npm test builds first) and fails, never skips, without them.
 */
t.setTimeout(scaled(400_000));
t.test('kill soak: 2 agents SIGKILLed mid-write for 40 s lose nothing', async (t) => {
  const lines: string[] = [];
  const report = await runKillSoak({
    agents: 2,
    durationMs: 40_000,
    seed: 5,
    rootDir: join(t.testdir(), 'kill-soak'),
    releaseEveryMs: 4000,
    settleMs: scaled(60_000),
    log: createMemoryLogger('error'),
    progress: (l) => lines.push(l),
  });
  const text = `${lines.join('\n')}\n${renderKillReport(report)}`;
  t.ok(report.ok, text);
  t.ok(report.kills.length >= 4, `killed again and again (${report.kills.length})`);
  const interrupted = report.kills.filter((k) => k.leftovers.length > 0);
  t.ok(interrupted.length >= 1, 'at least one kill left an unfinished write on disk: it landed mid-write');
  t.ok(report.removedAtStart >= 1, 'and the next start removed what it left');
  t.ok(
    report.kills.some((k) => k.trap === 'staging' && k.sprung) ||
      report.kills.some((k) => k.trap === 'transfer' && k.sprung),
    'an install was interrupted',
  );
  t.same(
    report.checks.filter((c) => c.problems.length > 0),
    [],
    'every agent runs the last release, files and status right',
  );
  t.ok(report.signals.file.written > 100 && report.signals.mqtt.written > 100, 'signals flowed both ways');
  t.equal(report.signals.file.lost + report.signals.mqtt.lost, 0, 'no written signal lost');
  t.equal(report.signals.duplicates, 0, 'none stored twice');
});
