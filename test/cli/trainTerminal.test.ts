import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { mulberry32 } from '../../trainer/random.js';
import { screenLines } from '../helpers/terminalScreen.js';
import { scaled } from '../helpers/time.js';

/**
 * `bookrec train` on a real pseudo-terminal (util-linux `script`), as an operator runs it (issue 21,
 * item 8): what the terminal shows at the end has every log line whole on its own line, every bar
 * line a bar and nothing else, and the results table intact. Before, lines were glued to bars
 * (`eta 0s00:55:19 INFO train: EASE solved ...`) and the table overwrote log lines.
 */
const hasScript = spawnSync('script', ['--version']).status === 0;

function writeRatings(dir: string, users: number): void {
  const rng = mulberry32(3);
  const lines = ['user_id,item_id'];
  for (let u = 0; u < users; u++) {
    const series = Math.floor(rng() * 4);
    for (let b = 0; b < 10; b++) if (rng() < 0.6) lines.push(`${u},${series * 10 + b + 1}`);
    lines.push(`${u},${41 + Math.floor(rng() * 8)}`);
  }
  writeFileSync(join(dir, 'ratings.csv'), `${lines.join('\n')}\n`);
}

/** Single quotes for `script -c`, which hands its command to a shell: only test paths pass here. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

t.test(
  'train on a terminal: log lines, bars and the results table each keep their own lines',
  { skip: hasScript ? false : 'util-linux script is not installed' },
  async (t) => {
    const dir = t.testdir({ data: {} });
    writeRatings(join(dir, 'data'), 1500);
    const out = join(dir, 'out');
    const args = ['dist/cli/bookrec.js', 'train', '--data', join(dir, 'data'), '--out', out];
    args.push(
      '--quick',
      '--teacher-hidden',
      'none',
      '--mlp-hidden',
      '0',
      '--fan-in',
      '4',
      '--backend',
      'cpu',
    );
    const command = [process.execPath, ...args].map(quote).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let transcript = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      transcript += chunk;
    });
    const timer = setTimeout(() => child.kill(), scaled(120_000));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    t.equal(code, 0, transcript);
    const lines = screenLines(transcript).filter((l) => l !== '');
    const logLine = /^\d\d:\d\d:\d\d (DEBUG|INFO |WARN |ERROR) /;
    const bar = /^[a-zA-Z@ ()-]+ \[[█░]+\] \d+% \d+\/\d+ eta [\dhms?]+$/;
    const logs = lines.filter((l) => logLine.test(l));
    const bars = lines.filter((l) => /[█░]/.test(l));
    t.ok(logs.length >= 10, `${logs.length} log lines`);
    t.ok(bars.length >= 3, `${bars.length} finished bars`);
    for (const l of bars) t.match(l, bar, 'a bar line holds the bar and nothing else');
    const glued = lines.filter((l) => !logLine.test(l) && /\d\d:\d\d:\d\d (DEBUG|INFO|WARN|ERROR) /.test(l));
    t.same(glued, [], 'no log line starts in the middle of another line');
    for (const l of logs) t.notMatch(l, /[█░]|\| \w/, 'no bar or table text inside a log line');
    const table = lines.filter((l) => l.startsWith('|'));
    const first = lines.findIndex((l) => l.startsWith('| model |'));
    t.ok(table.length >= 8, `${table.length} table lines`);
    t.same(
      lines.slice(first, first + table.length),
      table,
      'the table in one piece, nothing between its rows',
    );
    for (const row of table) t.match(row, /^\|( [^|]+ \|)+$/, 'each table row whole');
    t.match(lines.at(-1), /^wrote .*report\.md/, 'the summary last');
  },
);
