import { BookrecError } from '../errors.js';
import { encodeHistory, type HistoryEvent } from '../model/encoding.js';
import type { OpenModel } from './openModel.js';

/**
 * A model that loads can still be useless (NaN weights that quantisation hid, a wrong output layer):
 * score a canned history (the first fallback books finished a day ago) and an empty one, and require
 * finite scores of the catalogue's width. Every place that installs or serves a model runs it first.
 */
export function selfTest(model: OpenModel, now: Date = new Date()): void {
  const { encoding, fallback } = model.manifest;
  const events: HistoryEvent[] = fallback.slice(0, 3).map((id) => ({
    index: model.index.get(id)!,
    kind: 'finished',
    at: new Date(now.getTime() - 86_400_000),
  }));
  if (events.length === 0) events.push({ index: 0, kind: 'finished', at: now });
  const rows = [encodeHistory(encoding, events, now), new Float32Array(encoding.items)];
  const scores = model.engine.score(rows);
  if (scores.length !== rows.length * model.catalogue.length) {
    throw new BookrecError('MODEL_SELF_TEST', `self-test: ${scores.length} scores for ${rows.length} rows`);
  }
  const bad = scores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) {
    throw new BookrecError('MODEL_SELF_TEST', `self-test: score ${bad % encoding.items} is ${scores[bad]}`);
  }
}
