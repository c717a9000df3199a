import { PassThrough } from 'node:stream';
import t from 'tap';
import { terminalProgress } from '../../cli/progress.js';
import { createMemoryLogger } from '../../common/log.js';
import { logProgress } from '../../common/progress.js';

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

t.test('terminal progress draws a bar with the label and the count on its stream', async (t) => {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let drawn = '';
  stream.on('data', (chunk: Buffer) => {
    drawn += chunk.toString();
  });
  Object.assign(stream, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true });
  const progress = terminalProgress(stream)('fetch', 4);
  progress.update(2);
  progress.finish();
  t.match(drawn, /fetch \[/);
  t.match(drawn, /2\/4/);
});
