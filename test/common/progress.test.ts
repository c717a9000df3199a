import t from 'tap';
import { createMemoryLogger } from '../../common/log.js';
import { logProgress } from '../../common/progress.js';

// The terminal's bar: test/cli/screen.test.ts.
t.test('log progress: a line at most every interval, and one at the end', async (t) => {
  const log = createMemoryLogger('info');
  let clock = 0;
  const progress = logProgress({ log, intervalMs: 1000, now: () => clock })('phase', 10);
  progress.update(1); // too soon
  clock = 1500;
  progress.update(4);
  clock = 1600;
  progress.update(5); // too soon again
  clock = 3000;
  progress.finish();
  t.same(
    log.lines.map((l) => l.msg),
    ['phase: 4/10', 'phase: done'],
  );
  t.equal(log.lines[0].seconds, 1.5);
  t.equal(log.lines[1].total, 10);
});
