/**
 * `npm run bench`: runs the benchmarks listed here, in order, each printing its own figures (these are
 * measurements to read and record, not timed tests). `npm run bench -- NAME...` runs only those.
 * Add a benchmark: a module whose default export takes a print function, and a line in BENCHMARKS.
 */
type Benchmark = (print: (text: string) => void) => Promise<void>;

const BENCHMARKS: Record<string, () => Promise<{ default: Benchmark }>> = {
  loadData: () => import('./loadData.js'),
  delivery: () => import('./delivery.js'),
  fanout: () => import('./fanout.js'),
  evaluate: () => import('./evaluate.js'),
  agent: () => import('./agent.js'),
  mpdMatch: () => import('./mpdMatch.js'),
  distill: () => import('./distill.js'),
  simulate: () => import('./simulate.js'),
  soak: () => import('./soak.js'),
  serve: () => import('./serve.js'),
  rank: () => import('./rank.js'),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) {
  console.log(`== ${name}`);
  const started = performance.now();
  const { default: bench } = await BENCHMARKS[name]();
  await bench((text) => console.log(text));
  console.log(`== ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
