import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  aptLine,
  listPath,
  missingFor,
  packagesOf,
  parseProgramList,
  present,
} from '../../scripts/systemPrograms.js';

/**
 * The one list of system programs (issue 24 item 1): the test command and the demo check it before any
 * work, install as root with apt-get, and otherwise name the apt-get line and exit 2.
 */
const script = join(process.cwd(), 'dist', 'scripts', 'systemPrograms.js');

function run(args: string[], env: NodeJS.ProcessEnv, uid?: number) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    // Through env -i: tap's coverage hook rides along in NODE_OPTIONS, and as another user it could not
    // write its records; the script runs with only the environment given, as a fresh shell would.
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    execFile(
      '/usr/bin/env',
      ['-i', ...vars, process.execPath, script, ...args],
      uid === undefined ? {} : { uid, gid: uid },
      (err, out, errOut) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out, err: errOut }),
    );
  });
}

/** A PATH holding only node and apt-get: every other program of the list is missing from it. */
function barePath(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'bookrec-path-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  symlinkSync(process.execPath, join(dir, 'node'));
  const aptGet = join(dir, 'apt-get');
  // A stand-in apt-get that must never run in these cases: it would leave this file behind.
  writeFileSync(aptGet, `#!/bin/sh\necho ran > ${join(dir, 'apt-get-ran')}\nexit 0\n`, { mode: 0o755 });
  return dir;
}

t.test('the real list parses, and every entry names its packages and why', async (t) => {
  const list = parseProgramList(readFileSync(listPath(), 'utf8'));
  t.ok(list.length >= 10, `${list.length} entries`);
  for (const p of list) {
    t.ok(p.packages.length > 0 && p.why.length > 0, `${p.program}: ${p.packages.join(' ')} (${p.why})`);
  }
  t.ok(
    list.some((p) => p.program === 'metaflac' && p.packages.includes('flac') && p.uses.includes('tests')),
    'metaflac (flac) is there: its absence failed three MPD test files on a fresh machine',
  );
  t.ok(
    list.some((p) => p.program === 'espeak-ng' && p.uses.includes('demo')),
    'the demo needs espeak-ng',
  );
});

t.test('a malformed line is an error naming its line, not skipped', async (t) => {
  t.throws(() => parseProgramList('tests mosquitto mosquitto\nteste sox sox\n'), /line 2:.*teste sox sox/);
  t.throws(() => parseProgramList('# comment\ntests mosquitto\n'), /line 2/);
});

t.test('missing programs: looked up on PATH and the sbin folders; absolute paths must exist', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bookrec-prog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'here-tool'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'not-executable'), 'x', { mode: 0o644 });
  const list = parseProgramList(
    [
      'tests here-tool pkg-a  # found on PATH',
      'tests not-executable pkg-b  # a file without x is not a program',
      `tests,demo ${join(dir, 'absent.js')} pkg-c pkg-a  # a path that does not exist`,
      'ci no-such-program-bookrec pkg-d  # only for ci',
    ].join('\n'),
  );
  t.ok(present('here-tool', join(dir, 'bin')));
  const missing = missingFor(list, ['tests'], join(dir, 'bin'));
  t.same(
    missing.map((p) => p.program),
    ['not-executable', join(dir, 'absent.js')],
  );
  t.same(packagesOf(missing), ['pkg-b', 'pkg-c', 'pkg-a'], 'each package once, in the list order');
  t.equal(
    aptLine(missing, false),
    'apt-get update && apt-get install -y --no-install-recommends pkg-b pkg-c pkg-a',
  );
  t.equal(
    aptLine(missing, true),
    'sudo apt-get update && sudo apt-get install -y --no-install-recommends pkg-b pkg-c pkg-a',
  );
  t.same(
    missingFor(list, ['ci'], join(dir, 'bin')).map((p) => p.program),
    ['no-such-program-bookrec'],
  );
});

t.test(
  '--check-only on a bare PATH: names what is missing and the apt-get line, exit 2, installs nothing',
  async (t) => {
    const path = barePath(t);
    const r = await run(['--for', 'demo', '--check-only'], { PATH: path });
    t.equal(r.code, 2, r.err);
    t.match(r.err, /espeak-ng \(Debian package espeak-ng\)/);
    t.match(r.err, /apt-get install -y --no-install-recommends espeak-ng/);
    t.notOk(readdirHas(path, 'apt-get-ran'), 'apt-get was not run');
  },
);

t.test('as a user other than root: exit 2 with the sudo apt-get line, before any test runs', async (t) => {
  if (process.getuid?.() !== 0) {
    // Not root already: the script sees a non-root user as it is.
    const r = await run(['--for', 'tests'], { PATH: barePath(t) });
    t.equal(r.code, 2, r.err);
    t.match(r.err, /sudo apt-get update && sudo apt-get install -y --no-install-recommends espeak-ng .*flac/);
    return;
  }
  const path = barePath(t);
  const r = await run(['--for', 'tests'], { PATH: path }, 65534);
  t.equal(r.code, 2, r.err);
  t.match(r.err, /metaflac \(Debian package flac\)/);
  t.match(r.err, /sudo apt-get update && sudo apt-get install -y --no-install-recommends espeak-ng .*flac/);
  t.notOk(readdirHas(path, 'apt-get-ran'), 'apt-get was not run');
});

t.test('as root with apt-get on PATH: apt-get is run with the missing packages', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('the install path needs root (CI runs as root)', () => {});
    return;
  }
  // The stand-in apt-get records its arguments; the programs stay missing, so the script says so and exits 1.
  const path = barePath(t);
  writeFileSync(join(path, 'apt-get'), `#!/bin/sh\necho "$@" >> ${join(path, 'apt-get-args')}\nexit 0\n`, {
    mode: 0o755,
  });
  const r = await run(['--for', 'demo'], { PATH: path });
  t.equal(r.code, 1, r.err);
  const calls = readFileSync(join(path, 'apt-get-args'), 'utf8').trim().split('\n');
  t.same(calls, ['update -qq', 'install -y -qq --no-install-recommends espeak-ng']);
  t.match(r.err, /installed, yet still missing:\n[^\n]*\n {2}espeak-ng/);
});

t.test('bad arguments are refused with a message', async (t) => {
  const r = await run(['--for', 'test'], { PATH: process.env.PATH });
  t.equal(r.code, 2);
  t.match(r.err, /--for takes tests, demo, ci; got test/);
});

function readdirHas(dir: string, name: string): boolean {
  try {
    readFileSync(join(dir, name));
    return true;
  } catch {
    return false;
  }
}
