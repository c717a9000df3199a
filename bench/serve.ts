import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/**
 * `npm run bench -- serve`: POST /v1/recommend under load (autocannon, keep-alive) at 1, 16 and 64
 * concurrent connections, for the distilled student and for the teacher it was distilled from, served
 * the same way by one child process (bench/serveChild.ts) in the same run, on the goodbooks catalogue of
 * 10,000 books. Each request is a real held-out reader's history (500 rotated). Prints requests/s and
 * latency p50/p99 side by side with the ratio. Needs a full training first (its package and the
 * trainer's cache): npx bookrec train --data ../shared/datasets/goodbooks-10k --out out/full
 * Settings: BENCH_PACKAGE (out/full/package), BENCH_CACHE (out/full/cache), BOOKREC_DATA_DIR, BENCH_SECONDS (10).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONCURRENCY = [1, 16, 64];

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}

async function load(url: string, connections: number, seconds: number, bodies: string[]): Promise<Figures> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/recommend`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

export default async function bench(print: (text: string) => void): Promise<void> {
  const pkg = process.env.BENCH_PACKAGE ?? join(ROOT, 'out', 'full', 'package');
  const cache = process.env.BENCH_CACHE ?? join(ROOT, 'out', 'full', 'cache');
  const data = process.env.BOOKREC_DATA_DIR ?? join(ROOT, '..', 'shared', 'datasets', 'goodbooks-10k');
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  if (!existsSync(join(pkg, 'bookrec-package.json'))) {
    throw new Error(
      `${pkg} is not a package: run a full training first (npx bookrec train --data ... --out out/full)`,
    );
  }
  const bodiesFile = join(tmpdir(), `bookrec-bench-bodies-${process.pid}.json`);
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'serveChild.js')], {
    env: {
      ...process.env,
      BENCH_PACKAGE: pkg,
      BENCH_CACHE: cache,
      BOOKREC_DATA_DIR: data,
      BENCH_BODIES: bodiesFile,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const info = await new Promise<Record<string, number | string>>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, number | string>);
      });
      child.once('exit', (code) => reject(new Error(`the serving child exited with ${code}`)));
    });
    const bodies = JSON.parse(await readFile(bodiesFile, 'utf8')) as string[];
    print(
      `catalogue ${info.books} books; student engine ${info.studentEngine}; teacher ${info.teacherParams} parameters on tfjs-${info.backend}; ` +
        `${bodies.length} held-out histories (mean ${Number(info.meanHistory).toFixed(1)} books), ${seconds} s per run, keep-alive`,
    );
    print(
      `ranking alone (no HTTP), per request: student ${Number(info.studentRankMs).toFixed(3)} ms, teacher ${Number(info.teacherRankMs).toFixed(2)} ms`,
    );
    const results: Record<string, Record<number, Figures>> = { student: {}, teacher: {} };
    for (const name of ['student', 'teacher'] as const) {
      const url = `http://127.0.0.1:${info[name]}`;
      await load(url, 16, 2, bodies); // warm-up: JIT, tfjs kernels, keep-alive sockets
      for (const c of CONCURRENCY) results[name][c] = await load(url, c, seconds, bodies);
    }
    const rows = [
      [
        'conc',
        'student req/s',
        'p50 ms',
        'p99 ms',
        'teacher req/s',
        'p50 ms',
        'p99 ms',
        'req/s ratio',
        'p99 ratio',
      ],
    ];
    for (const c of CONCURRENCY) {
      const s = results.student[c];
      const t = results.teacher[c];
      rows.push([
        String(c),
        s.rps.toFixed(0),
        String(s.p50),
        String(s.p99),
        t.rps.toFixed(0),
        String(t.p50),
        String(t.p99),
        `${(s.rps / t.rps).toFixed(1)}x`,
        `${(t.p99 / Math.max(s.p99, 0.5)).toFixed(1)}x`,
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) print(r.map((cell, i) => cell.padStart(widths[i])).join('  '));
    const failures = CONCURRENCY.flatMap((c) =>
      (['student', 'teacher'] as const).map(
        (n) => [n, c, results[n][c].errors + results[n][c].non2xx] as const,
      ),
    ).filter(([, , bad]) => bad > 0);
    print(
      failures.length === 0 ? 'every request answered 200' : `FAILED requests: ${JSON.stringify(failures)}`,
    );
    const s16 = results.student[16];
    print(
      `floor (issue 14): student at 16 connections >= 1000 req/s and p99 < 50 ms: ${s16.rps >= 1000 && s16.p99 < 50 ? 'met' : 'NOT met'}`,
    );
  } finally {
    child.kill('SIGTERM');
    await rm(bodiesFile, { force: true });
  }
}
