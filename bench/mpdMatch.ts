import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TagMatcher } from '../agent/signals/mpd/tagMatcher.js';
import { firstAuthor, plainTitle } from '../common/inference/ranking.js';
import type { BookEntry } from '../common/model/catalogue.js';
import { loadCatalogue } from '../trainer/data/books.js';

/**
 * The MPD source's tag matcher on the real goodbooks-10k catalogue: the time to build its index (once
 * per installed model), the time per match, and how every catalogue book comes back when tagged as an
 * audiobook release tags it ("<title without series> (Unabridged)", the first author as artist and a
 * narrator beside): matched to itself, to another book, ambiguous (never guessed) or unknown.
 * Run: npm run build && npm run bench -- mpdMatch
 */
const BUILDS = 5;

export default async function bench(print: (text: string) => void): Promise<void> {
  const dir = process.env.BOOKREC_DATA_DIR || resolve('..', 'shared', 'datasets', 'goodbooks-10k');
  if (!existsSync(join(dir, 'books.csv'))) {
    print(`skipped: no books.csv in ${dir} (set BOOKREC_DATA_DIR)`);
    return;
  }
  const catalogue: BookEntry[] = (await loadCatalogue(join(dir, 'books.csv'))).books.map((b) => ({
    id: b.id,
    title: b.title,
    authors: b.authors,
    year: b.year ?? null,
    language: b.language ?? '',
  }));

  const buildMs: number[] = [];
  let matcher: TagMatcher | undefined;
  for (let i = 0; i < BUILDS; i++) {
    const started = performance.now();
    matcher = new TagMatcher(catalogue);
    buildMs.push(performance.now() - started);
  }

  const outcome = { self: 0, other: 0, ambiguous: 0, unknown: 0 };
  const examples: Record<string, string[]> = { other: [], ambiguous: [], unknown: [] };
  const started = performance.now();
  for (const book of catalogue) {
    const got = matcher!.match({
      album: `${plainTitle(book.title)} (Unabridged)`,
      names: [firstAuthor(book.authors), 'A. Narrator'],
    });
    const kind = got.kind === 'book' ? (got.book.id === book.id ? 'self' : 'other') : got.kind;
    outcome[kind]++;
    if (kind !== 'self' && examples[kind].length < 3)
      examples[kind].push(`${book.id} ${JSON.stringify(book.title)}`);
  }
  const perMatchUs = ((performance.now() - started) * 1000) / catalogue.length;
  buildMs.sort((a, b) => a - b);
  print(`catalogue: ${catalogue.length} books (${dir})`);
  print(
    `index build: median ${buildMs[Math.floor(BUILDS / 2)].toFixed(0)} ms, min ${buildMs[0].toFixed(0)} ms over ${BUILDS} builds`,
  );
  print(`match: ${perMatchUs.toFixed(1)} µs per album on average over ${catalogue.length}`);
  const pct = (n: number) => `${n} (${((100 * n) / catalogue.length).toFixed(1)}%)`;
  print(
    `every book tagged "<title> (Unabridged)" by its first author: itself ${pct(outcome.self)}, another book ${pct(outcome.other)}, ambiguous ${pct(outcome.ambiguous)}, unknown ${pct(outcome.unknown)}`,
  );
  for (const [kind, list] of Object.entries(examples))
    if (list.length > 0) print(`  ${kind}, e.g.: ${list.join('; ')}`);
}
