import { BookrecError } from '../errors.js';
import { StrictObject } from './jsonFields.js';

/**
 * How a listener's history becomes the model's input vector. It travels in the model package so the
 * trainer and the device cannot disagree on it: a model trained on one encoding and fed another would
 * still run, and quietly recommend worse.
 */
export const EVENT_KINDS = [
  'finished',
  'liked',
  'started',
  'progress',
  'abandoned',
  'skipped',
  'read',
] as const;
/** 'read' is a past read imported from elsewhere (e.g. a reading-list export), not a live event. */
export type EventKind = (typeof EVENT_KINDS)[number];
export type EventWeights = Record<EventKind, number>;

export interface InputEncoding {
  kind: 'weighted-history';
  /** Input width: the catalogue length. */
  items: number;
  eventWeights: EventWeights;
  /** An item's value halves every this many days since its latest event; null: no decay. */
  recencyHalfLifeDays: number | null;
  /** Only the most recent this many items (by latest event) count. */
  maxHistory: number;
}

export interface HistoryEvent {
  /** Dense catalogue index of the book. */
  index: number;
  kind: EventKind;
  at: Date;
}

/** The encoding the trainer uses unless told otherwise; spread it with the catalogue length as `items`. */
export const DEFAULT_ENCODING: Readonly<Omit<InputEncoding, 'items' | 'eventWeights'>> & {
  readonly eventWeights: Readonly<EventWeights>;
} = Object.freeze({
  kind: 'weighted-history',
  eventWeights: Object.freeze({
    finished: 1,
    liked: 1,
    read: 1,
    started: 0.5,
    progress: 0.5,
    abandoned: 0.1,
    skipped: 0,
  }),
  recencyHalfLifeDays: null,
  maxHistory: 500,
});

const DAY_MS = 86_400_000;

/**
 * An encoded history as a sparse list: the books whose value is not 0, by ascending index (the order in
 * which the engines sum, so a sparse and a dense input give the same float32 scores). Values are float32,
 * exactly what the dense input holds at those indices.
 */
export interface SparseHistory {
  indices: Int32Array;
  values: Float32Array;
}

/**
 * The model input for one listener: per item, the sum of its events' weights clamped to
 * [0, max weight] (so re-reading a book ten times does not drown the rest of the history), times
 * 0.5^(days since its latest event / half-life) when a half-life is set. Items whose value is 0 (only
 * skips, say) do not count towards maxHistory, so skips cannot push real reads out; of the rest, the
 * maxHistory items with the latest events are kept (ties: lower index first).
 */
export function encodeHistory(
  encoding: InputEncoding,
  events: readonly HistoryEvent[],
  now: Date,
  /** A buffer to write into (zeroed first), so a caller that ranks often allocates nothing. */
  into?: Float32Array,
): Float32Array {
  const { indices, values } = encodeHistorySparse(encoding, events, now);
  if (into !== undefined && into.length !== encoding.items) {
    throw new BookrecError('ENCODING_INPUT', `a buffer of ${into.length} values for ${encoding.items} items`);
  }
  const out = into?.fill(0) ?? new Float32Array(encoding.items);
  for (let k = 0; k < indices.length; k++) out[indices[k]] = values[k];
  return out;
}

/** The same encoding as a sparse list (the JS engine's input): the one place the rules above live. */
export function encodeHistorySparse(
  encoding: InputEncoding,
  events: readonly HistoryEvent[],
  now: Date,
): SparseHistory {
  const cap = Math.max(...EVENT_KINDS.map((k) => encoding.eventWeights[k]));
  const perItem = new Map<number, { index: number; sum: number; latest: number }>();
  for (const e of events) {
    if (!Number.isInteger(e.index) || e.index < 0 || e.index >= encoding.items) {
      throw new BookrecError(
        'ENCODING_INPUT',
        `history event index ${e.index} is not below ${encoding.items}`,
      );
    }
    const w = Object.hasOwn(encoding.eventWeights, e.kind) ? encoding.eventWeights[e.kind] : undefined;
    if (w === undefined) throw new BookrecError('ENCODING_INPUT', `unknown history event kind "${e.kind}"`);
    const at = e.at.getTime();
    if (Number.isNaN(at))
      throw new BookrecError('ENCODING_INPUT', `history event for ${e.index} has no valid date`);
    const item = perItem.get(e.index);
    if (item === undefined) perItem.set(e.index, { index: e.index, sum: w, latest: at });
    else {
      item.sum += w;
      item.latest = Math.max(item.latest, at);
    }
  }
  const clamped = (item: { sum: number }) => Math.min(cap, Math.max(0, item.sum));
  const kept: { index: number; sum: number; latest: number }[] = [];
  for (const item of perItem.values()) if (clamped(item) > 0) kept.push(item);
  // Ranking a history always calls this: the recency cut is sorted for only when it cuts something.
  if (kept.length > encoding.maxHistory) {
    kept.sort((a, b) => b.latest - a.latest || a.index - b.index);
    kept.length = encoding.maxHistory;
  }
  // Ascending index, the order the engines sum in (a typed array sorts numbers natively; filled by hand,
  // as Int32Array.from with a mapping function costs more than the rest of this function).
  const indices = new Int32Array(kept.length);
  for (let k = 0; k < kept.length; k++) indices[k] = kept[k].index;
  indices.sort();
  const halfLife = encoding.recencyHalfLifeDays;
  const values = new Float32Array(indices.length);
  let n = 0;
  for (let k = 0; k < indices.length; k++) {
    const item = perItem.get(indices[k])!;
    // A future-dated event (clock skew between sources) counts as now, never as more than full weight.
    const ageDays = Math.max(0, (now.getTime() - item.latest) / DAY_MS);
    const value = Math.fround(
      halfLife === null ? clamped(item) : clamped(item) * 0.5 ** (ageDays / halfLife),
    );
    // A value decayed below float32's range is 0 in a dense input too: the engine would skip it.
    if (value === 0) continue;
    indices[n] = item.index;
    values[n++] = value;
  }
  return { indices: indices.subarray(0, n), values: values.subarray(0, n) };
}

/** Checks an encoding read from a package (`path` names it inside `file`). */
export function validateEncoding(
  value: unknown,
  file: string,
  path = 'encoding',
  code = 'PACKAGE_INVALID',
): InputEncoding {
  const o = StrictObject.of(value, file, path, code);
  const kind = o.string('kind');
  if (kind !== 'weighted-history')
    throw o.fail('kind', `"${kind}" is not a known encoding (weighted-history)`);
  const items = o.number('items', { integer: true, min: 1 });
  const w = o.object('eventWeights');
  const eventWeights = Object.fromEntries(EVENT_KINDS.map((k) => [k, w.number(k)])) as EventWeights;
  w.end();
  if (!EVENT_KINDS.some((k) => eventWeights[k] > 0)) {
    throw o.fail('eventWeights', 'must give at least one event kind a positive weight');
  }
  const recencyHalfLifeDays = o.nullableNumber('recencyHalfLifeDays', { above: 0 });
  const maxHistory = o.number('maxHistory', { integer: true, min: 1 });
  o.end();
  return { kind, items, eventWeights, recencyHalfLifeDays, maxHistory };
}
