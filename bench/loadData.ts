import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mulberry32 } from '../trainer/random.js';

/**
 * Load time and peak memory of the data loader: the real ratings.csv (v1 layout, ~1M rows) and
 * books.csv when the real data folder is there, and a synthetic 6M-row ratings file in the official v2
 * layout (user_id,book_id,rating), generated into a temp folder and removed afterwards. Each load runs in
 * a child process (bench/loadDataChild.ts) so that the peak RSS is honest. The limit: under
 * 1.5 GB for 6M rows.
 */
const PEAK_LIMIT_MB = 1536;
const SYNTHETIC_ROWS = 6_000_000;
const USERS = 53_424;
const BOOKS = 10_000;

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

interface Figures {
  seconds: number;
  peakMb: number;
  rows: number;
  kept: number;
  duplicates?: number;
  users?: number;
}

async function measure(kind: 'interactions' | 'catalogue', file: string): Promise<Figures> {
  const { stdout } = await run(process.execPath, [join(here, 'loadDataChild.js'), kind, file], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as Figures;
}

/** Up from this file to the folder with package.json (works from bench/ and from dist/bench/). */
function repoRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * A v2-like file: time-ordered, so users interleave; popularity skewed towards low book ids as in the
 * real data; some pairs repeat, which the loader must de-duplicate. Seeded: same file on every machine.
 */
async function writeSynthetic(file: string, rows: number): Promise<void> {
  const rng = mulberry32(7);
  const out = createWriteStream(file);
  out.write('user_id,book_id,rating\n');
  const batch: string[] = [];
  for (let r = 0; r < rows; r++) {
    const user = 1 + Math.floor(rng() * USERS);
    const book = 1 + Math.floor(BOOKS * rng() ** 2);
    batch.push(`${user},${book},${1 + Math.floor(rng() * 5)}`);
    if (batch.length === 50_000 || r === rows - 1) {
      if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
      batch.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
}

function line(label: string, f: Figures, mb: number): string {
  const dup = f.duplicates === undefined ? '' : `, ${f.duplicates} duplicates`;
  const users = f.users === undefined ? '' : `, ${f.users} users`;
  return `${label.padEnd(34)} ${f.seconds.toFixed(2).padStart(6)} s  peak RSS ${f.peakMb.toFixed(0).padStart(5)} MB  (${f.rows} rows, ${mb.toFixed(0)} MB file${dup}${users})`;
}

export default async function loadData(print: (text: string) => void): Promise<void> {
  const dataDir =
    process.env.BOOKREC_DATA_DIR || resolve(repoRoot(), '..', 'shared', 'datasets', 'goodbooks-10k');
  const ratings = join(dataDir, 'ratings.csv');
  if (existsSync(ratings)) {
    const mb = (await stat(ratings)).size / 2 ** 20;
    print(line('ratings.csv v1 (real)', await measure('interactions', ratings), mb));
    const books = join(dataDir, 'books.csv');
    const bmb = (await stat(books)).size / 2 ** 20;
    print(line('books.csv catalogue (real)', await measure('catalogue', books), bmb));
  } else {
    print(`ratings.csv v1 (real): skipped, no data at ${dataDir} (set BOOKREC_DATA_DIR)`);
  }

  const tmp = await mkdtemp(join(tmpdir(), 'bookrec-bench-'));
  try {
    const file = join(tmp, 'ratings-v2-synthetic.csv');
    const started = performance.now();
    await writeSynthetic(file, SYNTHETIC_ROWS);
    const mb = (await stat(file)).size / 2 ** 20;
    print(`(generated ${SYNTHETIC_ROWS} v2 rows in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const f = await measure('interactions', file);
    print(line(`synthetic v2, ${SYNTHETIC_ROWS / 1e6}M rows`, f, mb));
    const verdict = f.peakMb < PEAK_LIMIT_MB ? 'within' : 'OVER';
    print(
      `peak memory for ${SYNTHETIC_ROWS / 1e6}M rows: ${f.peakMb.toFixed(0)} MB, ${verdict} the ${PEAK_LIMIT_MB} MB limit`,
    );
    if (f.peakMb >= PEAK_LIMIT_MB) process.exitCode = 1;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
