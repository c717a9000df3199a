import { writeFile } from 'node:fs/promises';
import type { ScoringEngine } from '../common/inference/engine.js';
import { rank } from '../common/inference/ranking.js';
import { createLogger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';
import { buildApp } from '../serve/app.js';
import { serveConfig } from '../serve/config.js';
import { ServeMetrics } from '../serve/metrics.js';
import { ModelSlot, type ServedModel } from '../serve/modelSlot.js';
import { loadPackageFolder } from '../serve/packageFolder.js';
import { fitEase } from '../trainer/baselines/ease.js';
import { PROFILES, prepare } from '../trainer/distill/prepare.js';
import type { WideDeepTeacher } from '../trainer/distill/teacher.js';
import { obtainTeacher } from '../trainer/distill/teacherCache.js';

/**
 * The child of `npm run bench -- serve`: one process serving the trained student and the teacher it was
 * distilled from the same way (the same Fastify app, route, validation and ranking; only the scoring
 * engine differs), each on its own port. The teacher is no package: it is built through the trainer's
 * own code and cache (EASE weights and the trained deep path), exactly as `bookrec train` obtains it.
 * Prints {"student": port, "teacher": port, ...} on stdout once both listen; request bodies (real
 * held-out readers' histories) go to BENCH_BODIES.
 */
const env = process.env;
const pkg = env.BENCH_PACKAGE!;
const dataDir = env.BOOKREC_DATA_DIR!;
const cacheDir = env.BENCH_CACHE!;
const log = createLogger({ level: 'warn', sink: (line) => process.stderr.write(`${line}\n`) });

/** The teacher behind the engine interface: a history vector in, the teacher's logits out. */
function teacherEngine(teacher: WideDeepTeacher, toTeacher: Int32Array): ScoringEngine {
  const items = toTeacher.length;
  return {
    kind: 'teacher-tfjs',
    items,
    score(inputs) {
      const histories = inputs.map((x) => {
        const read: number[] = [];
        for (let i = 0; i < x.length; i++) if (x[i] > 0) read.push(toTeacher[i]);
        return Int32Array.from(read);
      });
      const logits = teacher.logits(histories);
      // Back to the package's item order (the same order when both come from one preparation).
      const out = new Float32Array(inputs.length * items);
      for (let b = 0; b < inputs.length; b++) {
        for (let i = 0; i < items; i++) out[b * items + i] = logits[b * items + toTeacher[i]];
      }
      return out;
    },
    dispose() {},
  };
}

const student = await loadPackageFolder(pkg, { keys: new Map() });
const profile = PROFILES.full;
const prep = await prepare(dataDir, 42, profile, log);
const ease = await fitEase(prep.reads, prep.split.trainUsers, { lambda: 100, cacheDir, log });
const backend = await useBackend('auto', log);
const { teacher } = await obtainTeacher(
  cacheDir,
  prep,
  ease.weights,
  { lambda: 100, hidden: [256], profile, seed: 42 },
  log,
);

const teacherIndex = new Map(prep.catalogue.map((b, i) => [b.id, i]));
const toTeacher = Int32Array.from(student.model.catalogue, (b) => {
  const i = teacherIndex.get(b.id);
  if (i === undefined) throw new Error(`book ${b.id} of the package is not in the teacher's data`);
  return i;
});
const teacherServed: ServedModel = {
  model: { ...student.model, engine: teacherEngine(teacher, toTeacher) },
  name: 'teacher',
  version: null,
  from: 'package',
};

// The ranking alone, in this process before any HTTP: what each request costs the CPU at the least.
const rankCost = (served: ServedModel) => {
  const histories = prep.split.test
    .slice(0, 200)
    .map((u) =>
      Array.from(u.foldIn, (i) => ({ bookId: prep.catalogue[i].id, kind: 'read' as const, at: Date.now() })),
    );
  for (const h of histories.slice(0, 20)) rank(served.model, h, { count: 10 });
  const t0 = performance.now();
  for (const h of histories) rank(served.model, h, { count: 10 });
  return (performance.now() - t0) / histories.length;
};
const rankMs = { student: rankCost(student), teacher: rankCost(teacherServed) };

const config = serveConfig({ argv: ['--package', pkg, '--port', '0', '--web-dir', '/nonexistent'] });
const ports: Record<string, number> = {};
for (const [name, served] of [
  ['student', { ...student, name: 'student' }],
  ['teacher', teacherServed],
] as const) {
  const slot = new ModelSlot();
  slot.swap(served);
  const app = buildApp({ config, slot, metrics: new ServeMetrics(), log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  ports[name] = typeof address === 'object' && address ? address.port : 0;
}

// Held-out readers' histories (their fold-in books), as the API takes them.
const bodies = prep.split.test.slice(0, 500).map((u) =>
  JSON.stringify({
    history: Array.from(u.foldIn, (i) => ({ bookId: prep.catalogue[i].id, kind: 'read' })),
    count: 10,
  }),
);
await writeFile(env.BENCH_BODIES!, JSON.stringify(bodies));
const meanHistory = prep.split.test.slice(0, 500).reduce((n, u) => n + u.foldIn.length, 0) / bodies.length;
process.stdout.write(
  `${JSON.stringify({ ...ports, books: student.model.catalogue.length, teacherParams: teacher.params, studentEngine: student.model.engine.kind, backend, meanHistory, studentRankMs: rankMs.student, teacherRankMs: rankMs.teacher })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
