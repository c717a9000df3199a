/**
 * Runs test files under another Node than the one running this script: the device path's tests (test/agent,
 * test/common) under Debian bookworm's nodejs 18, the Node that Raspberry Pi OS installs. node-tap 21's
 * runner cannot do it (it needs Node 20: its process-info hook uses the global `crypto` that Node 18 lacks,
 * and turning that global on would hide exactly the Node 20-only APIs these runs are there to find), so
 * each test file runs the way tap's runner starts one: the chosen node, tap's TypeScript and mock loaders,
 * the file. A file passes when it exits 0 and its TAP summary has no failure.
 *
 * usage: node dist/scripts/nodeTests.js --node PATH [--jobs 2] [--timeout-seconds 300] DIR_OR_FILE...
 * Prints one line per file, the output of failing files, and a closing line
 * "node vX.Y.Z: A assertions passed, F failed, in N test files (M failed)". .ci/run adds A and F to
 * tap's totals, which count assertions too; a file that fails without a TAP summary (a crash, a time-out)
 * counts as one failed assertion.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

interface Options {
  node: string;
  jobs: number;
  timeoutMs: number;
  paths: string[];
}

interface FileResult {
  file: string;
  ok: boolean;
  assertions: number;
  passed: number;
  failed: number;
  ms: number;
  output: string;
  why: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { node: '', jobs: 2, timeoutMs: 300_000, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node') options.node = argv[++i] ?? '';
    else if (a === '--jobs') options.jobs = Math.max(1, Number(argv[++i]));
    else if (a === '--timeout-seconds') options.timeoutMs = Number(argv[++i]) * 1000;
    else options.paths.push(a);
  }
  if (!options.node || options.paths.length === 0 || !(options.timeoutMs > 0) || !(options.jobs > 0)) {
    console.error('usage: nodeTests --node PATH [--jobs N] [--timeout-seconds S] DIR_OR_FILE...');
    process.exit(2);
  }
  return options;
}

/** Test files under a folder, as tap's config finds them (children/ holds helper processes, not tests). */
function testFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const full = join(path, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'children' && name !== 'fixtures') out.push(...testFiles(full));
    } else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** Runs a command to its end; output is kept (bounded) for the report of a failing file. */
function runFile(node: string, file: string, timeoutMs: number): Promise<FileResult> {
  const loaders = ['@tapjs/typescript/import', '@tapjs/mock/import'].map(
    (m) => `--import=${import.meta.resolve(m)}`,
  );
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(node, [...loaders, '--enable-source-maps', file], {
      // As tap's TypeScript plugin sets them: transpile only (npm run check type-checks), the project's tsconfig.
      env: {
        ...process.env,
        TAP_COLOR: '0',
        // What tap's runner hands a test file: its time limit, which the root test enforces itself.
        TAP_TIMEOUT: String(timeoutMs / 1000),
        TS_NODE_TRANSPILE_ONLY: '1',
        TS_NODE_PROJECT: resolve('tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (b: Buffer) => {
      // The last 4 MB are enough to see why a file failed; a runaway test cannot fill memory.
      chunks.push(b);
      size += b.length;
      while (size > 4 << 20 && chunks.length > 1) size -= chunks.shift()!.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let spawnError = '';
    child.on('error', (err) => {
      spawnError = `cannot start ${node}: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).toString('utf8');
      // The root test's closing comment: "# { total: 6, pass: 6 }" or "# { total: 6, pass: 5, fail: 1 }".
      const summary = [...output.matchAll(/^# \{ total: \d+.*\}$/gm)].pop()?.[0];
      const count = (key: string) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary ?? '')?.[1] ?? 0);
      const assertions = count('total');
      const passed = count('pass');
      const why = spawnError
        ? spawnError
        : timedOut
          ? `timed out after ${timeoutMs / 1000} s`
          : code !== 0
            ? `exited ${code ?? signal}`
            : !summary
              ? 'printed no TAP summary'
              : passed < assertions
                ? `${assertions - passed} failed`
                : assertions === 0
                  ? 'ran no assertion'
                  : '';
      const ok = why === '';
      // Failed assertions; a file that failed without saying which counts as one.
      const failed = ok ? 0 : Math.max(1, assertions - passed);
      done({ file, ok, assertions, passed, failed, ms: performance.now() - started, output, why });
    });
  });
}

async function nodeVersion(node: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done(out.trim()) : fail(new Error(`${node} --version exited ${code}`)),
    );
  });
}

const options = parseArgs(process.argv.slice(2));
const root = process.cwd();
const files = options.paths.flatMap((p) => testFiles(resolve(p)));
let version: string;
try {
  version = await nodeVersion(options.node);
} catch (err) {
  console.error(`nodeTests: cannot run ${options.node}: ${(err as Error).message}`);
  console.log(
    `node ?: 0 assertions passed, 1 failed, in ${files.length} test files (${files.length} failed)`,
  );
  process.exit(1);
}
console.log(
  `nodeTests: ${files.length} test files under ${options.node} (${version}), ${options.jobs} at a time`,
);

const results: FileResult[] = [];
const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(options.jobs, queue.length) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const r = await runFile(options.node, file, options.timeoutMs);
      results.push(r);
      const name = relative(root, r.file);
      console.log(
        `${r.ok ? 'ok' : 'not ok'} - ${name} (${r.assertions} assertions, ${(r.ms / 1000).toFixed(1)} s)${r.ok ? '' : `: ${r.why}`}`,
      );
      if (!r.ok) console.log(r.output.replace(/^/gm, '    '));
    }
  }),
);
const filesFailed = results.filter((r) => !r.ok).length;
const sum = (key: 'passed' | 'failed') => results.reduce((total, r) => total + r[key], 0);
console.log(
  `node ${version}: ${sum('passed')} assertions passed, ${sum('failed')} failed, in ${results.length} test files (${filesFailed} failed)`,
);
process.exitCode = filesFailed === 0 && results.length > 0 ? 0 : 1;
