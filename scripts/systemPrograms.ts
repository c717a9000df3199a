/**
 * What this project needs from the system, checked before any work starts: the test command, the demo
 * and .ci/run all read scripts/system-programs.txt through this script, so the list exists once. As root
 * on a machine with apt-get it installs what is missing (what a fresh Debian machine needs); otherwise
 * it prints the one apt-get line that would, and exits 2 before a test or the demo has run.
 *
 * usage: node dist/scripts/systemPrograms.js --for tests[,demo,ci] [--check-only]
 * exit: 0 all there (or installed), 2 missing and not installed here, 1 apt-get failed.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const USES = ['tests', 'demo', 'ci'] as const;
export type Use = (typeof USES)[number];

export interface SystemProgram {
  uses: Use[];
  /** A program looked up on PATH (and the sbin folders), or an absolute path that must exist. */
  program: string;
  packages: string[];
  why: string;
}

/** Where a program may live besides PATH: a non-root PATH often lacks the sbin folders (mosquitto). */
const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Parses the list; a malformed line is an error naming its number, never silently skipped. */
export function parseProgramList(text: string): SystemProgram[] {
  const out: SystemProgram[] = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!body) return;
    const [usesField, program, ...packages] = body.split(/\s+/);
    const uses = usesField.split(',');
    const bad = uses.filter((u) => !(USES as readonly string[]).includes(u));
    if (bad.length > 0 || !program || packages.length === 0) {
      throw new Error(
        `system-programs.txt line ${i + 1}: expected "<${USES.join('|')}>[,...] <program> <packages...>", got ${JSON.stringify(raw)}`,
      );
    }
    out.push({ uses: uses as Use[], program, packages, why: hash >= 0 ? raw.slice(hash + 1).trim() : '' });
  });
  return out;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the program is there, as the code that runs it will look for it. */
export function present(program: string, path: string | undefined): boolean {
  if (isAbsolute(program)) return existsSync(program);
  const dirs = [...(path ?? '').split(delimiter).filter(Boolean), ...SBIN];
  return dirs.some((dir) => executable(join(dir, program)));
}

export function missingFor(list: SystemProgram[], uses: Use[], path: string | undefined): SystemProgram[] {
  return list.filter((p) => p.uses.some((u) => uses.includes(u)) && !present(p.program, path));
}

/** The packages to install, once each, in the list's order. */
export function packagesOf(missing: SystemProgram[]): string[] {
  return [...new Set(missing.flatMap((p) => p.packages))];
}

/** The line a person runs (as root) to get what is missing. */
export function aptLine(missing: SystemProgram[], sudo: boolean): string {
  const as = sudo ? 'sudo ' : '';
  return `${as}apt-get update && ${as}apt-get install -y --no-install-recommends ${packagesOf(missing).join(' ')}`;
}

const WHO: Record<Use, string> = { tests: 'the tests', demo: 'the demo', ci: '.ci/run' };

export function describeMissing(missing: SystemProgram[], uses: Use[]): string {
  const lines = missing.map((p) => `  ${p.program} (Debian package ${p.packages.join(' + ')}): ${p.why}`);
  const who = uses.map((u) => WHO[u]).join(' and ');
  return [
    `${who} need${uses.length === 1 && uses[0] !== 'tests' ? 's' : ''} programs this machine does not have:`,
    ...lines,
  ].join('\n');
}

export function listPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Run from the TypeScript source (tests) the list sits beside this file; from dist/scripts, two up.
  const candidates = [
    join(here, 'system-programs.txt'),
    join(here, '..', '..', 'scripts', 'system-programs.txt'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`system-programs.txt not found (looked in ${candidates.join(', ')})`);
  return found;
}

function parseArgs(argv: string[]): { uses: Use[]; checkOnly: boolean } {
  let uses: Use[] = [];
  let checkOnly = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--for') {
      const requested = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = requested.filter((u) => !(USES as readonly string[]).includes(u));
      if (bad.length > 0) throw new Error(`--for takes ${USES.join(', ')}; got ${bad.join(', ')}`);
      uses = requested as Use[];
    } else if (argv[i] === '--check-only') checkOnly = true;
    else throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
  }
  if (uses.length === 0)
    throw new Error(`usage: systemPrograms --for ${USES.join('|')}[,...] [--check-only]`);
  return { uses, checkOnly };
}

function main(argv: string[]): number {
  const { uses, checkOnly } = parseArgs(argv);
  const list = parseProgramList(readFileSync(listPath(), 'utf8'));
  const missing = missingFor(list, uses, process.env.PATH);
  if (missing.length === 0) return 0;
  const root = process.getuid?.() === 0;
  const apt = present('apt-get', process.env.PATH);
  if (checkOnly || !root || !apt) {
    console.error(describeMissing(missing, uses));
    if (apt) console.error(`Install them as root, then run this again:\n  ${aptLine(missing, !root)}`);
    else console.error(`This machine has no apt-get: install the programs above with its package manager.`);
    return 2;
  }
  console.log(`installing ${packagesOf(missing).join(' ')} (for ${uses.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    // A list that fails to download (a foreign-architecture index mid mirror sync) makes update exit
    // non-zero although the others are fresh: let the install decide.
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch {
    console.error('apt-get update reported errors; installing from the lists it has');
  }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packagesOf(missing)], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
  } catch {
    console.error(`apt-get install failed. The line was:\n  ${aptLine(missing, false)}`);
    return 1;
  }
  const still = missingFor(list, uses, process.env.PATH);
  if (still.length > 0) {
    console.error(`installed, yet still missing:\n${describeMissing(still, uses)}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`systemPrograms: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
