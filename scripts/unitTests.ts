/**
 * The inner loop's tests: every test file that needs no broker, no browser, no real data set, no
 * training run, no other program and no child process, picked from what the file imports or calls, so a
 * new test is sorted without a list to keep. `npm run test:unit` runs them (no coverage gate: that is
 * npm test's); `npm test` runs everything.
 *
 * usage: node dist/scripts/unitTests.js [--list] [tap flags...]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folders whose tests are end to end by nature: emulators, soaks, the .deb, the demo, the simulator. */
const SLOW_FOLDERS = ['test/arm', 'test/bench', 'test/deb', 'test/demo', 'test/sim'];

/** What in a test file's source means it reaches outside the process or trains, each with why. */
export const MARKERS: Record<string, string> = {
  'helpers/mosquitto': 'a real mosquitto',
  deployHarness: 'a real mosquitto',
  memoryBroker: 'an in-process broker and MQTT clients',
  startEmbeddedBroker: 'an in-process broker and MQTT clients',
  '/harness.js': 'a fleet or service harness',
  agentProcess: 'agent processes',
  'helpers/browser': 'Chromium',
  'helpers/realData': 'the goodbooks data set',
  'helpers/mpd': 'a real mpd',
  packageFixture: 'a trained package',
  archiveServer: 'an HTTP server for the data download',
  'trainer/commands': 'a training run',
  'cli/bookrec.js': 'whole commands',
  child_process: 'other programs',
  '/speech/': 'speech engines',
};

/** Why a test file is not a unit test, or undefined when it is one. */
export function notUnitBecause(file: string, source: string): string | undefined {
  const folder = SLOW_FOLDERS.find((f) => file.startsWith(`${f}/`));
  if (folder) return `in ${folder}`;
  const marker = Object.keys(MARKERS).find((m) => source.includes(m) || file.includes(m));
  return marker ? MARKERS[marker] : undefined;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'fixtures' && name !== 'children') out.push(...testFiles(full));
    } else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

export function unitTestFiles(root = 'test'): string[] {
  return testFiles(root).filter((f) => notUnitBecause(f, readFileSync(f, 'utf8')) === undefined);
}

if (process.argv[1]?.endsWith('unitTests.js')) {
  const args = process.argv.slice(2);
  const files = unitTestFiles();
  if (args.includes('--list')) console.log(files.join('\n'));
  else {
    console.error(`test:unit: ${files.length} files (no broker, browser, data, training or child process)`);
    const tap = spawnSync('npx', ['tap', '--disable-coverage', ...args, ...files], { stdio: 'inherit' });
    process.exitCode = tap.status ?? 1;
  }
}
