import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MemoryStage } from './agentMemoryChild.js';

/**
 * Where the agent's resident memory goes (issue 15): the agent's parts loaded one after another in
 * processes of their own (bench/agentMemoryChild.ts), each figure after two garbage collections.
 *
 *  - `agent`: node -> agent code -> service started -> N recommendations, as `bookrec agent` runs with
 *    the sparse student (the JS engine: no tfjs). Each stage's growth of resident memory is its row.
 *  - `tfjs`: what a package only tfjs runs would add (tfjs-core, wasm backend, tfjs-layers): a row of
 *    its own, not in the total, since the agent imports them only for such a package.
 *  - `model`, `catalogue`, `history`: the same imports, then that part alone, to split the service's
 *    start into the model (weights, layers graph), the catalogue and the history. What is left of the
 *    start (MQTT client, timers, buffers, and what the parts share) is its own row.
 *
 * Resident memory is the operating system's figure; V8 heap (JS objects) and external (ArrayBuffers:
 * tensors, the wasm heap) say what kind of memory a row is. Deltas of a few hundred KB are noise.
 */
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

interface ChildResult {
  stages: MemoryStage[];
}

async function child(
  mode: string,
  stateDir: string,
  recommendations: number,
  env: NodeJS.ProcessEnv,
): Promise<ChildResult> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', join(here, 'agentMemoryChild.js'), mode, stateDir, String(recommendations)],
    { maxBuffer: 1 << 20, env },
  );
  return JSON.parse(stdout) as ChildResult;
}

/** A full listening history on disk (history.log, as the agent writes it), over the catalogue's books. */
async function writeHistory(stateDir: string, events: number): Promise<void> {
  const catalogue = JSON.parse(await readFile(join(stateDir, 'current', 'catalogue.json'), 'utf8')) as {
    id: number;
  }[];
  const kinds = ['finished', 'liked', 'started', 'progress', 'read', 'skipped'];
  const now = Date.now();
  const lines = Array.from(
    { length: events },
    (_, i) =>
      `${JSON.stringify([i + 1, catalogue[(i * 7919) % catalogue.length].id, kinds[i % kinds.length], now - (events - i) * 3_600_000])}\n`,
  );
  await rm(join(stateDir, 'history.json'), { force: true });
  await writeFile(join(stateDir, 'history.log'), lines.join(''));
}

export async function memoryBreakdown(
  stateDir: string,
  options: { books: number; historyEvents: number; recommendations: number; env: NodeJS.ProcessEnv },
  print: (text: string) => void,
): Promise<void> {
  await writeHistory(stateDir, options.historyEvents);
  const agent = await child('agent', stateDir, options.recommendations, options.env);
  const model = await child('model', stateDir, 0, options.env);
  const catalogue = await child('catalogue', stateDir, 0, options.env);
  const history = await child('history', stateDir, 0, options.env);
  const tfjs = await child('tfjs', stateDir, 0, options.env);
  const at = (r: ChildResult, stage: string) => r.stages.find((s) => s.stage === stage)!;
  type Delta = { rss: number; heap: number; heapTotal: number; external: number };
  const step = (r: ChildResult, stage: string, before: string): Delta => {
    const a = at(r, stage);
    const b = at(r, before);
    return {
      rss: a.rssMb - b.rssMb,
      heap: a.heapMb - b.heapMb,
      heapTotal: a.heapTotalMb - b.heapTotalMb,
      external: a.externalMb - b.externalMb,
    };
  };
  const started = step(agent, 'service started', 'agent code');
  const m = step(model, 'model', 'agent code');
  const h = step(history, 'history', 'agent code');
  const rest: Delta = {
    rss: started.rss - m.rss - h.rss,
    heap: started.heap - m.heap - h.heap,
    heapTotal: started.heapTotal - m.heapTotal - h.heapTotal,
    external: started.external - m.external - h.external,
  };
  const node = at(agent, 'node');
  const wasm = at(tfjs, 'wasm backend').wasmHeapMb;
  const books = options.books.toLocaleString('en-US');
  const rows: [string, Delta][] = [
    [
      'Node alone (the measuring script included)',
      { rss: node.rssMb, heap: node.heapMb, heapTotal: node.heapTotalMb, external: node.externalMb },
    ],
    [
      'agent code (mqtt, convict, typebox, the agent and common modules; no tfjs)',
      step(agent, 'agent code', 'node'),
    ],
    [`installed model: weights, JS engine, catalogue of ${books} books, index`, m],
    [
      `  of which the catalogue alone (parsed, checked, indexed; measured apart)`,
      step(catalogue, 'catalogue', 'agent code'),
    ],
    [`history: ${options.historyEvents.toLocaleString('en-US')} events`, h],
    ['rest of the service start (MQTT client, outbox, counters, timers)', rest],
    [
      `${options.recommendations.toLocaleString('en-US')} recommendations`,
      step(agent, 'recommendations', 'service started'),
    ],
  ];
  const tfjsRows: [string, Delta][] = [
    ['tfjs-core', step(tfjs, 'tfjs-core', 'agent code')],
    [
      `wasm backend (+ tfjs-backend-cpu it loads; a ${wasm.toFixed(0)} MB wasm heap, mostly untouched)`,
      step(tfjs, 'wasm backend', 'tfjs-core'),
    ],
    ['tfjs-layers', step(tfjs, 'tfjs-layers', 'wasm backend')],
  ];
  const f = (v: number) => (Math.abs(v) < 0.05 ? '0.0' : v.toFixed(1));
  print(
    "where the agent's resident memory goes (MB; each row what that part adds; the indented row is part of the one above):",
  );
  print('| part | resident | V8 heap used | V8 heap reserved | external (ArrayBuffers, wasm) |');
  print('|---|---:|---:|---:|---:|');
  for (const [name, v] of rows)
    print(`| ${name} | ${f(v.rss)} | ${f(v.heap)} | ${f(v.heapTotal)} | ${f(v.external)} |`);
  const total = at(agent, 'recommendations');
  print(
    `| **the agent after ${options.recommendations.toLocaleString('en-US')} recommendations** | **${total.rssMb.toFixed(1)}** | ${total.heapMb.toFixed(1)} | ${total.heapTotalMb.toFixed(1)} | ${total.externalMb.toFixed(1)} |`,
  );
  print('only with a package the JS engine does not run (an MLP student), loaded then, not in the total:');
  for (const [name, v] of tfjsRows)
    print(`| ${name} | ${f(v.rss)} | ${f(v.heap)} | ${f(v.heapTotal)} | ${f(v.external)} |`);
  print(
    `peak resident memory: ${agent.stages.map((s) => `${s.stage} ${s.peakMb.toFixed(0)}`).join(', ')} MB (the highest so far, after each stage)`,
  );
}
