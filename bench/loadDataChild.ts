/**
 * One measured load, in a process of its own so that its peak memory (maxRSS) is the load's alone and
 * not the generator's or another benchmark's. Prints one JSON line for bench/loadData.ts.
 * usage: node dist/bench/loadDataChild.js interactions|catalogue FILE
 */
import { loadCatalogue } from '../trainer/data/books.js';
import { loadInteractionsCsv } from '../trainer/data/interactionsCsv.js';

const [kind, file] = process.argv.slice(2);
const started = performance.now();
let figures: Record<string, number>;
if (kind === 'catalogue') {
  const { summary } = await loadCatalogue(file);
  figures = { rows: summary.rows, kept: summary.kept };
} else {
  const { summary } = await loadInteractionsCsv(file);
  figures = { rows: summary.rows, kept: summary.kept, duplicates: summary.duplicates, users: summary.users };
}
const seconds = (performance.now() - started) / 1000;
// maxRSS is in kilobytes: the peak resident memory of this whole process, Node itself included.
const peakMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ seconds, peakMb, ...figures })}\n`);
