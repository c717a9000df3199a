/**
 * The measured agent, in a process of its own so its memory is the agent's alone: starts an
 * AgentService on a prepared state dir (model installed, no broker reachable), feeds it a listening
 * history, then times recommendations. Prints one JSON line for bench/agent.ts.
 * usage: node dist/bench/agentChild.js STATE_DIR RECOMMENDATIONS SPOKEN
 */
import { agentConfig } from '../agent/config.js';
import { AgentService } from '../agent/service.js';
import { createLogger } from '../common/log.js';
import { peakRssMb } from './peakRss.js';

const [stateDir, recsArg, spokenArg] = process.argv.slice(2);
const recommendations = Number(recsArg);
const spoken = Number(spokenArg);
const base = [
  '--state-dir',
  stateDir,
  '--broker',
  'mqtt://127.0.0.1:1',
  '--backend',
  'wasm',
  '--audio',
  'none',
];
const env = { BOOKREC_DEVICE_ID: 'bench-device' };
const log = createLogger({
  level: process.env.BENCH_LOG_LEVEL === 'debug' ? 'debug' : 'error',
  sink: (l) => process.stderr.write(`${l}\n`),
});

const service = new AgentService({
  config: agentConfig({ env, argv: [...base, '--output', 'publish', '--tts', 'none'] }),
  env: {},
  log,
});
await service.start();
const model = service.store.current!;
// A listener's history: 40 events over the past months, on books spread over the catalogue.
const kinds = ['finished', 'liked', 'started', 'progress', 'abandoned', 'skipped'] as const;
for (let i = 0; i < 40; i++) {
  const book = model.catalogue[(i * 2477) % model.catalogue.length];
  await service.intake.signal('bench', {
    bookId: book.id,
    kind: kinds[i % kinds.length],
    at: Date.now() - i * 86_400_000,
  });
}
const rankMs: number[] = [];
for (let i = 0; i < recommendations; i++) {
  const r = await service.responder.trigger('command');
  rankMs.push(r!.rankMs);
}
const rssAfter = process.memoryUsage().rss;
await service.stop();

// Trigger to the end of speech synthesis (espeak-ng writing the WAV; no sound card to play it on).
const speaker = new AgentService({
  config: agentConfig({ env, argv: [...base, '--output', 'speak', '--tts', 'espeak-ng'] }),
  env: {},
  log,
});
await speaker.start();
const speechMs: number[] = [];
for (let i = 0; i < spoken; i++) {
  const started = performance.now();
  const r = await speaker.responder.trigger('button');
  const s = await r!.speech;
  if (s) speechMs.push(performance.now() - started - (s.totalMs - s.synthesisMs));
}
await speaker.stop();
process.stdout.write(
  `${JSON.stringify({ rankMs, speechMs, rssAfterMb: rssAfter / 2 ** 20, maxRssMb: peakRssMb(), books: model.catalogue.length, outboxDropped: service.outbox.dropped })}\n`,
);
