import { type Static, Type } from '@sinclair/typebox';
import { EVENT_KINDS, type EventKind } from '../model/encoding.js';
import { contract, parseJsonBytes } from './contract.js';
import { BookId } from './fields.js';

/**
 * One listening/reading event, as the JSONL signals file and the MQTT signals topic carry it:
 *
 *   {"bookId": 2767052, "kind": "finished", "at": "2026-01-05T20:15:00Z"}
 *
 * `kind` is one of the model encoding's event kinds; `at` is optional (default: when it arrived). Anything
 * else is malformed: counted and logged by the receiver, never fatal.
 */
export const SignalSchema = Type.Object(
  {
    bookId: BookId(),
    kind: Type.Union(
      EVENT_KINDS.map((k) => Type.Literal(k)),
      { description: `one of ${EVENT_KINDS.join(', ')}` },
    ),
    at: Type.Optional(Type.String({ maxLength: 64, description: 'an ISO 8601 time' })),
  },
  { additionalProperties: false },
);

export const signalContract = contract('signal', 'A listening or reading event for a device', SignalSchema);

/** A signal as the device keeps it: the time resolved to milliseconds since the epoch. */
export interface Signal {
  bookId: number;
  kind: EventKind;
  at: number;
}

export type WireSignal = Static<typeof SignalSchema>;
export type ParsedSignal = { ok: true; signal: Signal } | { ok: false; reason: string };

/** Events dated further ahead than this are refused: a clock that far off would pin them as newest. */
const MAX_FUTURE_MS = 24 * 3_600_000;

export function parseSignal(value: unknown, now: number): ParsedSignal {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const problems = signalContract.problems(value);
  if (problems.length > 0) return { ok: false, reason: problems[0] };
  const o = value as WireSignal;
  let at = now;
  if (o.at !== undefined) {
    at = Date.parse(o.at);
    if (Number.isNaN(at)) return { ok: false, reason: 'at must be an ISO 8601 time' };
    if (at > now + MAX_FUTURE_MS) return { ok: false, reason: 'at is more than a day in the future' };
  }
  return { ok: true, signal: { bookId: o.bookId, kind: o.kind, at } };
}

/** Parses one line of text (a JSONL line or an MQTT payload). */
export function parseSignalText(text: string, now: number): ParsedSignal {
  const json = parseJsonBytes(new TextEncoder().encode(text));
  return json.ok ? parseSignal(json.value, now) : { ok: false, reason: 'not valid JSON' };
}
