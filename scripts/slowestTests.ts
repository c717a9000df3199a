/**
 * The slowest test files of the last run, with each file's time limit: tap saves every file's TAP
 * output in .tap/test-results/, ending in "# time=<ms>ms". A file that used more than half its limit is
 * flagged: a limit is there to catch a hang, and one that a normal run comes close to hides nothing but
 * also tells nothing (a ten-fold slowdown of a file with a 20x limit passes silently).
 *
 * usage: npm run test:slowest [-- --top 15] (after npm test or npx tap ...)
 * A file's limit: its own `t.setTimeout(scaled(MS))` (or `t.setTimeout(MS)`), else .taprc's `timeout`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface FileTime {
  file: string;
  ms: number;
  /** The file's limit in ms, or undefined when the file computes it (not a literal). */
  limitMs: number | undefined;
}

/** The closing "# time=1234.5ms" of a file's saved TAP output. */
export function fileTimeMs(tap: string): number | undefined {
  const m = /^# time=([\d.]+)ms\s*$/m.exec(tap.split('\n').slice(-4).join('\n'));
  return m ? Number(m[1]) : undefined;
}

/** .taprc's `timeout: S` in ms (tap's default 30 s when absent). */
export function defaultLimitMs(taprc: string): number {
  const m = /^timeout:\s*(\d+)\s*$/m.exec(taprc);
  return (m ? Number(m[1]) : 30) * 1000;
}

/** A file's own limit when it is a literal, null when it sets one that is computed, undefined when none. */
export function ownLimitMs(source: string): number | null | undefined {
  const call = /^t\.setTimeout\((.*)\);\s*$/m.exec(source);
  if (!call) return undefined;
  const m = /^(?:scaled\()?([\d_]+)\)?$/.exec(call[1].trim());
  return m ? Number(m[1].replaceAll('_', '')) : null;
}

function tapFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...tapFiles(full));
    else if (name.endsWith('.tap')) out.push(full);
  }
  return out;
}

export function readTimes(root: string): FileTime[] {
  const results = join(root, '.tap', 'test-results');
  if (!existsSync(results)) return [];
  const fallback = defaultLimitMs(
    existsSync(join(root, '.taprc')) ? readFileSync(join(root, '.taprc'), 'utf8') : '',
  );
  const times: FileTime[] = [];
  for (const tapFile of tapFiles(results)) {
    const ms = fileTimeMs(readFileSync(tapFile, 'utf8'));
    if (ms === undefined) continue;
    const file = relative(results, tapFile).replace(/\.tap$/, '');
    const source = existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : '';
    const own = ownLimitMs(source);
    times.push({ file, ms, limitMs: own === null ? undefined : (own ?? fallback) });
  }
  return times.sort((a, b) => b.ms - a.ms);
}

export function table(times: FileTime[], top: number): string {
  const rows = times.slice(0, top).map((t) => {
    const share = t.limitMs ? t.ms / t.limitMs : undefined;
    const limit = t.limitMs ? `${(t.limitMs / 1000).toFixed(0)} s` : 'computed';
    const flag = share !== undefined && share > 0.5 ? '  OVER HALF ITS LIMIT' : '';
    const used = share === undefined ? '' : `${(100 * share).toFixed(0)}%`;
    return `${(t.ms / 1000).toFixed(1).padStart(8)} s  ${limit.padStart(8)}  ${used.padStart(5)}  ${t.file}${flag}`;
  });
  const total = times.reduce((n, t) => n + t.ms, 0) / 1000;
  return [
    `    time     limit   used  file   (${times.length} files, ${total.toFixed(0)} s of test time in all)`,
    ...rows,
  ].join('\n');
}

if (process.argv[1]?.endsWith('slowestTests.js')) {
  const i = process.argv.indexOf('--top');
  const top = i > 0 ? Number(process.argv[i + 1]) : 15;
  const times = readTimes(process.cwd());
  if (times.length === 0) {
    console.error('no saved test results in .tap/test-results: run npm test (or npx tap FILES) first');
    process.exitCode = 2;
  } else console.log(table(times, Number.isFinite(top) && top > 0 ? top : 15));
}
