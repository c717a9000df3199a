import { spawn } from 'node:child_process';
import t from 'tap';
import { barText, terminalProgress } from '../../cli/progress.js';
import { Screen, type ScreenStream } from '../../cli/screen.js';
import { createLogger } from '../../common/log.js';
import { screenLines } from '../helpers/terminalScreen.js';

/**
 * The terminal as `bookrec train` shares it (issue 21, item 8): log lines on stderr, a table on stdout
 * and a progress bar under them. Two fake streams write into one transcript, as stderr and stdout do
 * on one terminal, and the transcript is replayed the way a terminal would show it.
 */
function terminal(stdoutIsTTY = true) {
  const writes: { stream: 'err' | 'out'; text: string }[] = [];
  const err: ScreenStream = {
    isTTY: true,
    columns: 100,
    write: (text) => writes.push({ stream: 'err', text }),
  };
  const out: ScreenStream = {
    isTTY: stdoutIsTTY,
    write: (text) => writes.push({ stream: 'out', text }),
  };
  const screen = new Screen(err, out);
  let clock = 0;
  const progress = terminalProgress({ screen, now: () => clock, redrawMs: 100 });
  const log = createLogger({
    format: 'text',
    clock: () => new Date(2026, 0, 5, 23, 1, 37),
    sink: (line) => screen.errLine(line),
  }).child('train');
  const shown = () => screenLines(writes.map((w) => w.text).join(''));
  return { writes, screen, progress, log, shown, tick: (ms: number) => (clock += ms) };
}

const BAR = /^[a-zA-Z ()]+ \[[█░]+\] \d+% \d+\/\d+ eta [\dms?]+$/;

t.test(
  'log lines and table rows printed while a bar is drawn land whole, each on its own line',
  async (t) => {
    const term = terminal();
    const bar = term.progress('EASE inverse (rows)', 50);
    for (let i = 1; i <= 50; i++) {
      term.tick(30);
      bar.update(i);
      if (i % 20 === 0) term.log.info('EASE solved', { n: i, seconds: 0.20742758499999991 });
    }
    bar.finish();
    const evaluate = term.progress('evaluate (models on test users)', 2);
    term.tick(500);
    evaluate.update(1);
    term.log.info('evaluated', { model: 'pop', ndcg10: 0.13661954881302552 });
    // A table printed on stdout while a bar is still drawn on stderr.
    term.screen.outLine('| model | ndcg@10 |');
    term.screen.outLine('| pop | 0.1366 |');
    term.tick(500);
    evaluate.update(2);
    evaluate.finish();
    term.screen.outLine('| ease | 0.6150 |');
    const lines = term.shown();
    t.same(lines, [
      '23:01:37 INFO  train: EASE solved n=20 seconds=0.2074',
      '23:01:37 INFO  train: EASE solved n=40 seconds=0.2074',
      'EASE inverse (rows) [████████████████████████████████████████] 100% 50/50 eta 0s',
      '23:01:37 INFO  train: evaluated model=pop ndcg10=0.1366',
      '| model | ndcg@10 |',
      '| pop | 0.1366 |',
      'evaluate (models on test users) [████████████████████████████████████████] 100% 2/2 eta 0s',
      '| ease | 0.6150 |',
    ]);
    t.ok(
      term.writes.some((w) => w.text.includes('50% 1/2 eta 1s')),
      'the half-done bar was drawn (and then erased for the lines above it)',
    );
  },
);

t.test('stdout into a pipe: the table goes straight out, the bar on stderr is not touched', async (t) => {
  const term = terminal(false);
  const bar = term.progress('publish', 4);
  const before = term.writes.length;
  term.screen.outLine('release 3 published');
  t.same(term.writes.slice(before), [{ stream: 'out', text: 'release 3 published\n' }]);
  bar.finish();
});

t.test('a failure mid-phase: the bar stays where it stopped and the error gets its own line', async (t) => {
  const term = terminal();
  const bar = term.progress('student refit (validated candidates)', 15);
  term.tick(1000);
  bar.update(8);
  term.screen.release();
  term.screen.errLine('bookrec train: SIGINT [INTERNAL]');
  bar.finish();
  t.same(term.shown(), [
    'student refit (validated candidates) [█████████████████████░░░░░░░░░░░░░░░░░░░] 53% 8/15 eta 1s',
    'bookrec train: SIGINT [INTERNAL]',
  ]);
});

t.test('the bar is redrawn at most every redrawMs and fits the terminal width', async (t) => {
  const term = terminal();
  const bar = term.progress('co-occurrence (books)', 1000);
  const before = term.writes.length;
  for (let i = 1; i <= 1000; i++) {
    if (i % 10 === 0) term.tick(1);
    bar.update(i);
  }
  t.equal(term.writes.length - before, 1, '1000 updates in 100 ms: one draw');
  bar.finish();
  for (const width of [79, 200]) {
    const text = barText('soft targets (teacher over training users)', 600, 1200, 65_000, width);
    t.ok(text.length <= width, `width ${width}: ${text}`);
    t.match(text, / 50% 600\/1200 eta 1m05s$/, 'the count and the ETA are never cut');
  }
  t.equal(barText('download', 123456, 0, 10), 'download 123456', 'no total: the count');
  t.match(barText('x', 0, 10, 0), BAR, 'nothing done yet: the ETA is unknown');
  t.match(barText('x', 0, 10, 0), /eta \?$/);
  t.match(barText('x', 5, 10, 7_300_000), /eta 2h01m$/);
});

t.test(
  "the real process: a failure quoting a stranger's text prints its control characters spelled out",
  async (t) => {
    const child = spawn(process.execPath, ['dist/cli/bookrec.js', 'x\x1b]0;PWNED\x07'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 2);
    t.match(stderr, /unknown command "x\\x1b\]0;PWNED\\x07"/);
    t.notMatch(stderr.replaceAll('\n', ''), /\p{Cc}/u);
  },
);
