import type { BookEntry } from '../model/catalogue.js';
import { type EventKind, encodeHistory, encodeHistorySparse, type HistoryEvent } from '../model/encoding.js';
import { idLookupFor } from './idLookup.js';
import type { OpenModel } from './openModel.js';
import { TouchedOrder } from './touchedOrder.js';

/**
 * History -> ranked books, the same on a speaker, a server and a phone: the package's input encoding,
 * the model's scores, books already in the history (or excluded) removed, a simple diversity rule (at
 * most `maxPerGroup` books by one first author or of one series), the top `count`. An empty (or
 * all-unknown) history gets the package's fallback list instead. With the JS engine of the sparse student
 * the work is in proportion to the history (only the books it reaches are scored and ordered); other
 * engines score the whole catalogue. Both give the same ranking (test/common/inference/sparseRanking.test.ts).
 */

/**
 * Buffers one model's rankings reuse: rank() is synchronous, so one set per model is never shared by
 * two rankings at once; they go with the model (a WeakMap does not keep it alive). The dense path's two
 * catalogue-long vectors are made only for an engine without the sparse path.
 */
const denseScratches = new WeakMap<OpenModel, { input: Float32Array; scores: Float32Array }>();
const orders = new WeakMap<OpenModel, TouchedOrder>();

function denseScratchFor(model: OpenModel): { input: Float32Array; scores: Float32Array } {
  let s = denseScratches.get(model);
  if (!s) {
    const items = model.catalogue.length;
    s = { input: new Float32Array(items), scores: new Float32Array(items) };
    denseScratches.set(model, s);
  }
  return s;
}

function orderFor(model: OpenModel): TouchedOrder {
  let order = orders.get(model);
  if (!order) {
    order = new TouchedOrder();
    orders.set(model, order);
  }
  return order;
}

/** One event of a listener's history, as signals carry it. */
export interface HistoryItem {
  bookId: number;
  kind: EventKind;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface RecommendedBook {
  id: number;
  title: string;
  authors: string;
  /** The model's score; null for fallback books. */
  score: number | null;
}

export interface Ranking {
  books: RecommendedBook[];
  /** A short reason, e.g. "because you finished The Hobbit". */
  reason: string;
  /** The history book the reason names, if any. */
  basedOn: { id: number; title: string; kind: EventKind } | null;
  source: 'model' | 'fallback';
  /** History book ids the catalogue does not hold (ignored for ranking). */
  unknown: number[];
}

export interface RankOptions {
  count: number;
  maxPerGroup?: number;
  now?: Date;
  /** Book ids never to recommend, besides the history's. */
  exclude?: readonly number[];
}

/** "The Hunger Games (The Hunger Games, #1)" -> series "the hunger games"; undefined when none. */
export function seriesOf(title: string): string | undefined {
  // Most titles name no series: skip the pattern for them (it runs for every book a ranking offers).
  if (!title.includes('#')) return undefined;
  const m = /\(([^()]*?),?\s*#\s*\d[\d.\-–]*\)\s*$/.exec(title);
  return m ? m[1].trim().toLowerCase() : undefined;
}

/** The title without its "(Series, #n)" part, for speech. */
export function plainTitle(title: string): string {
  const stripped = title.replace(/\s*\([^()]*#\s*\d[\d.\-–]*\)\s*$/, '').trim();
  return stripped || title;
}

/** The first named author, for the diversity rule and for speech. */
export function firstAuthor(authors: string): string {
  const comma = authors.indexOf(',');
  return (comma < 0 ? authors : authors.slice(0, comma)).trim();
}

const REASON_KINDS: Record<string, string> = {
  finished: 'finished',
  liked: 'liked',
  read: 'read',
  progress: 'are reading',
  started: 'started',
};

export function rank(model: OpenModel, history: readonly HistoryItem[], options: RankOptions): Ranking {
  const now = options.now ?? new Date();
  const maxPerGroup = options.maxPerGroup ?? 2;
  const { catalogue, manifest } = model;
  const indexOf = idLookupFor(model);
  const events: HistoryEvent[] = [];
  const seen = new Set<number>();
  const unknown = new Set<number>();
  // The reason's book: the latest event the listener felt positively about (a later one wins a tie).
  let reasonEvent: HistoryItem | undefined;
  let reasonIndex = -1;
  for (const e of history) {
    const i = indexOf(e.bookId);
    if (i < 0) {
      unknown.add(e.bookId);
      continue;
    }
    events.push({ index: i, kind: e.kind, at: new Date(e.at) });
    seen.add(i);
    if (e.kind in REASON_KINDS && (!reasonEvent || e.at >= reasonEvent.at)) {
      reasonEvent = e;
      reasonIndex = i;
    }
  }
  for (const id of options.exclude ?? []) {
    const i = indexOf(id);
    if (i >= 0) seen.add(i);
  }
  const basedOn: Ranking['basedOn'] = reasonEvent
    ? { id: catalogue[reasonIndex].id, title: catalogue[reasonIndex].title, kind: reasonEvent.kind }
    : null;
  const picker = new DiversePicker(options.count, maxPerGroup);
  const answered = model.engine.scoreSparse
    ? rankSparse(model, events, now, seen, picker)
    : rankDense(model, events, now, seen, picker);
  const source: Ranking['source'] = answered ? 'model' : 'fallback';
  if (!answered) {
    for (const id of manifest.fallback) {
      const i = indexOf(id);
      if (!seen.has(i) && picker.offer(catalogue[i], null)) break;
    }
  }
  const reason =
    source === 'fallback' || !basedOn
      ? 'popular with other readers'
      : `because you ${REASON_KINDS[basedOn.kind]} ${plainTitle(basedOn.title)}`;
  return {
    books: picker.books,
    reason,
    basedOn: source === 'model' ? basedOn : null,
    source,
    unknown: [...unknown],
  };
}

/**
 * The model's ranking through the sparse path: only the books the history reaches are scored and
 * ordered (touchedOrder.ts), in the dense path's order exactly. False when the history encodes to
 * nothing (the fallback list answers).
 */
function rankSparse(
  model: OpenModel,
  events: readonly HistoryEvent[],
  now: Date,
  seen: ReadonlySet<number>,
  picker: DiversePicker,
): boolean {
  // rank() calls this only for engines with a sparse path; the check narrows the type, before any work.
  if (!model.engine.scoreSparse) return false;
  const { indices, values } = encodeHistorySparse(model.manifest.encoding, events, now);
  if (indices.length === 0) return false;
  const result = model.engine.scoreSparse(indices, values);
  const order = orderFor(model);
  order.start(result, seen);
  for (let i = order.next(); i >= 0; i = order.next()) {
    if (picker.offer(model.catalogue[i], result.scores[i])) break;
  }
  return true;
}

/** The same through a dense input and every book's score (engines without the sparse path: tfjs). */
function rankDense(
  model: OpenModel,
  events: readonly HistoryEvent[],
  now: Date,
  seen: ReadonlySet<number>,
  picker: DiversePicker,
): boolean {
  const scratch = denseScratchFor(model);
  const input = encodeHistory(model.manifest.encoding, events, now, scratch.input);
  if (!input.some((v) => v > 0)) return false;
  let scores = scratch.scores;
  if (model.engine.scoreInto) model.engine.scoreInto(input, scores);
  else scores = model.engine.score([input]);
  for (const i of rankedIndices(scores, seen)) {
    if (picker.offer(model.catalogue[i], scores[i])) break;
  }
  return true;
}

/**
 * Indices by descending score (ties: lower index), skipping `exclude`, lazily: a bounded heap gives the
 * best few hundred at once, and only a listener whose diversity rule rejects all of them pays for a full
 * sort. Ranking 10,000 books this way costs well under a millisecond.
 */
export function* rankedIndices(
  scores: Float32Array,
  exclude: ReadonlySet<number>,
  first = 256,
): Generator<number> {
  const better = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
  const heap: number[] = [];
  // A min-heap (by "better") of the best `first` candidates.
  const up = (k: number) => {
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!better(heap[p], heap[k])) break;
      [heap[p], heap[k]] = [heap[k], heap[p]];
      k = p;
    }
  };
  const down = (k: number) => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && better(heap[m], heap[l])) m = l;
      if (r < heap.length && better(heap[m], heap[r])) m = r;
      if (m === k) return;
      [heap[m], heap[k]] = [heap[k], heap[m]];
      k = m;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    // Once the heap is full, most books score below its worst: skip them before any other work. (Every
    // index in the heap is below i, so a tie never wins and "better" reduces to a higher score.)
    if (heap.length === first && !(scores[i] > scores[heap[0]])) continue;
    if (exclude.has(i)) continue;
    if (heap.length < first) {
      heap.push(i);
      up(heap.length - 1);
    } else if (better(i, heap[0])) {
      heap[0] = i;
      down(0);
    }
  }
  const top = heap.sort((a, b) => (better(a, b) ? -1 : 1));
  yield* top;
  if (top.length < first) return;
  const taken = new Set(top);
  const rest: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!exclude.has(i) && !taken.has(i)) rest.push(i);
  yield* rest.sort((a, b) => (better(a, b) ? -1 : 1));
}

/** Takes books in the order offered while no author or series exceeds its share. */
class DiversePicker {
  readonly books: RecommendedBook[] = [];
  private readonly groups = new Map<string, number>();
  constructor(
    private readonly count: number,
    private readonly maxPerGroup: number,
  ) {}

  /** Returns true when the list is full. */
  offer(book: BookEntry, score: number | null): boolean {
    if (this.books.length >= this.count) return true;
    // A catalogue without authors (ratings-only data) must not put every book in one "author" group.
    const author = firstAuthor(book.authors).toLowerCase();
    const byAuthor = author === '' ? undefined : `a:${author}`;
    const series = seriesOf(book.title);
    const bySeries = series ? `s:${series}` : undefined;
    if (this.full(byAuthor) || this.full(bySeries)) return false;
    this.take(byAuthor);
    this.take(bySeries);
    this.books.push({ id: book.id, title: book.title, authors: book.authors, score });
    return this.books.length >= this.count;
  }

  private full(group: string | undefined): boolean {
    return group !== undefined && (this.groups.get(group) ?? 0) >= this.maxPerGroup;
  }

  private take(group: string | undefined): void {
    if (group !== undefined) this.groups.set(group, (this.groups.get(group) ?? 0) + 1);
  }
}

/** The reason an answer gives when it may not name the listener's history. */
export const PRIVATE_REASON = 'based on your reading';

/**
 * The same ranking without anything that names a book from the listener's history (the reason and the
 * book it refers to): what an answer leaving the device carries unless its owner allows more. The books
 * recommended stay (they are the answer).
 */
export function withoutHistory(rec: Ranking): Ranking {
  if (rec.source !== 'model') return rec;
  return { ...rec, reason: PRIVATE_REASON, basedOn: null };
}
