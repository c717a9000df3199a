import { EVENT_KINDS, type EventKind } from '../../common/model/encoding.js';

/**
 * One listening/reading event, as the JSONL file and the MQTT signals topic carry it:
 *
 *   {"bookId": 2767052, "kind": "finished", "at": "2026-01-05T20:15:00Z"}
 *
 * `kind` is one of the model encoding's event kinds; `at` is optional (default: when it arrived). Anything
 * else is malformed: counted and logged by the caller, never fatal.
 */
export interface Signal {
  bookId: number;
  kind: EventKind;
  /** Milliseconds since the epoch. */
  at: number;
}

export type ParsedSignal = { ok: true; signal: Signal } | { ok: false; reason: string };

/** Events dated further ahead than this are refused: a clock that far off would pin them as newest. */
const MAX_FUTURE_MS = 24 * 3_600_000;

export function parseSignal(value: unknown, now: number): ParsedSignal {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'bookId' && k !== 'kind' && k !== 'at');
  if (unknown.length > 0) return { ok: false, reason: `unknown field ${unknown[0]}` };
  if (typeof o.bookId !== 'number' || !Number.isSafeInteger(o.bookId) || o.bookId < 1) {
    return { ok: false, reason: 'bookId must be a positive integer' };
  }
  if (typeof o.kind !== 'string' || !(EVENT_KINDS as readonly string[]).includes(o.kind)) {
    return { ok: false, reason: `kind must be one of ${EVENT_KINDS.join(', ')}` };
  }
  let at = now;
  if (o.at !== undefined) {
    at = typeof o.at === 'string' ? Date.parse(o.at) : Number.NaN;
    if (Number.isNaN(at)) return { ok: false, reason: 'at must be an ISO 8601 time' };
    if (at > now + MAX_FUTURE_MS) return { ok: false, reason: 'at is more than a day in the future' };
  }
  return { ok: true, signal: { bookId: o.bookId, kind: o.kind as EventKind, at } };
}

/** Parses one line of text (a JSONL line or an MQTT payload). */
export function parseSignalText(text: string, now: number): ParsedSignal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  return parseSignal(value, now);
}
