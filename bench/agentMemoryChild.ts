/**
 * One process of the agent's memory breakdown (bench/agentMemory.ts). It loads the agent's parts in the
 * order the agent does, each by a dynamic import so the first figure is Node alone, and after each stage
 * collects garbage twice and records resident memory, V8's heap, external memory (ArrayBuffers, the wasm
 * heap among them) and the wasm heap's own size. Prints one JSON line.
 *
 * usage: node --expose-gc dist/bench/agentMemoryChild.js MODE STATE_DIR [RECOMMENDATIONS]
 *   The common stages: node, agent code (what `bookrec agent` imports: no tfjs). Then by MODE:
 *   agent      the whole service started on STATE_DIR (model, catalogue, history), then RECOMMENDATIONS
 *   model      the model store alone (weights, engine, catalogue, index, self-test)
 *   catalogue  the installed catalogue alone, parsed, checked and indexed as the package reader does
 *   history    the history store alone
 *   tfjs       what a package only tfjs runs (an MLP student) would add: tfjs-core, the wasm backend,
 *              tfjs-layers (the agent imports them only when such a package is installed)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { peakRssMb } from './peakRss.js';

export interface MemoryStage {
  stage: string;
  rssMb: number;
  heapMb: number;
  /** V8's heap as reserved from the system (used + free pages it keeps). */
  heapTotalMb: number;
  externalMb: number;
  /** The highest resident memory so far. */
  peakMb: number;
  wasmHeapMb: number;
}

const [mode, stateDir, recsArg] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const stages: MemoryStage[] = [];
let wasmHeap = () => 0;

function record(stage: string): void {
  gc!();
  gc!();
  const m = process.memoryUsage();
  const mb = (bytes: number) => bytes / 2 ** 20;
  stages.push({
    stage,
    rssMb: mb(m.rss),
    heapMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
    peakMb: peakRssMb(),
    wasmHeapMb: mb(wasmHeap()),
  });
}

record('node');
const { AgentService } = await import('../agent/service.js');
const { agentConfig } = await import('../agent/config.js');
const { createLogger } = await import('../common/log.js');
record('agent code');

const log = createLogger({ level: 'error', sink: (l) => process.stderr.write(`${l}\n`) });
// Kept referenced until the figures are printed, so nothing measured is collected early.
const held: unknown[] = [];
if (mode === 'agent') {
  const config = agentConfig({
    env: { BOOKREC_DEVICE_ID: 'bench-device' },
    argv: [
      ...['--state-dir', stateDir, '--broker', 'mqtt://127.0.0.1:1', '--backend', 'wasm'],
      ...['--tts', 'none', '--output', 'publish', '--history-max-events', '100000'],
    ],
  });
  const service = new AgentService({ config, env: {}, log });
  await service.start();
  record('service started');
  for (let i = 0; i < Number(recsArg); i++) await service.responder.trigger('command');
  record('recommendations');
  held.push(service);
} else if (mode === 'model') {
  const { ModelStore } = await import('../agent/modelStore.js');
  const store = new ModelStore({ stateDir, log });
  held.push(await store.start());
  record('model');
} else if (mode === 'catalogue') {
  const { validateCatalogue, catalogueIndex } = await import('../common/model/catalogue.js');
  const file = join(stateDir, 'current', 'catalogue.json');
  // Read as the package reader reads it: bytes, a strict UTF-8 decode, JSON.parse, checks, an index.
  const text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  const catalogue = validateCatalogue(JSON.parse(text), file);
  held.push(catalogue, catalogueIndex(catalogue));
  record('catalogue');
} else if (mode === 'tfjs') {
  const tf = await import('@tensorflow/tfjs-core');
  record('tfjs-core');
  const { useBackend } = await import('../common/model/backend.js');
  await useBackend('wasm');
  wasmHeap = () =>
    (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? 0;
  record('wasm backend');
  await import('@tensorflow/tfjs-layers');
  record('tfjs-layers');
} else if (mode === 'history') {
  const { HistoryStore } = await import('../agent/history.js');
  const history = new HistoryStore({ stateDir, log, maxEvents: 100_000, compactEvery: 1_000_000 });
  await history.start();
  held.push(history);
  record('history');
} else throw new Error(`unknown mode ${mode}`);

process.stdout.write(`${JSON.stringify({ stages, held: held.length })}\n`);
process.exit(0);
