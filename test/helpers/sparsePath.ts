import type { OpenModel } from '../../common/inference/openModel.js';
import type { HistoryItem } from '../../common/inference/ranking.js';
import { EVENT_KINDS } from '../../common/model/encoding.js';
import type { Rng } from '../../trainer/random.js';

/**
 * The same model as the dense path ranks it: an engine without scoreSparse, as a tfjs engine is. The
 * reference the sparse path is compared against.
 */
export function denseOnly(model: OpenModel): OpenModel {
  const e = model.engine;
  return {
    ...model,
    engine: { kind: e.kind, items: e.items, score: e.score, scoreInto: e.scoreInto, dispose: e.dispose },
  };
}

/**
 * A history of `books` distinct catalogue books (one or two events each, of any kind, skips and
 * abandons included, over the last year), now and then with a book the catalogue does not hold.
 */
export function randomHistory(rng: Rng, model: OpenModel, books: number, now: number): HistoryItem[] {
  const n = model.catalogue.length;
  const picked = new Set<number>();
  while (picked.size < Math.min(books, n)) picked.add(Math.floor(rng() * n));
  const history: HistoryItem[] = [];
  for (const i of picked) {
    const events = rng() < 0.2 ? 2 : 1;
    for (let k = 0; k < events; k++) {
      history.push({
        bookId: model.catalogue[i].id,
        kind: EVENT_KINDS[Math.floor(rng() * EVENT_KINDS.length)],
        at: now - Math.floor(rng() * 365 * 86_400_000),
      });
    }
  }
  if (rng() < 0.1) history.push({ bookId: 987_654_321, kind: 'finished', at: now });
  return history;
}

/** A few book ids never to recommend: catalogue books, now and then one it does not hold. */
export function randomExclude(rng: Rng, model: OpenModel): number[] {
  const n = model.catalogue.length;
  const out = Array.from({ length: Math.floor(rng() * 6) }, () => model.catalogue[Math.floor(rng() * n)].id);
  if (rng() < 0.2) out.push(123_456_789);
  return out;
}
