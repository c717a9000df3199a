import { type Static, Type } from '@sinclair/typebox';
import { contract, parseJsonBytes } from './contract.js';
import { Count, IsoTime, Name, PositiveInt } from './fields.js';

/**
 * Online quality counters: what a device publishes (retained) on devices/<id>/counters so the fleet view
 * and the quality gate of a rollout can compare model versions in the field. Only counts travel: no
 * history, no book ids, no times of single events. The one source of truth for the format; the agent
 * writes it, deploy (and the simulator) read it with parseCounters().
 *
 * Unit: one answer (a recommendation of a few books). `accepted` counts answers where at least one
 * recommended book was liked, started or finished within the window; `liked`, `started`, `finished`,
 * `skipped` count answers with at least one such follow-up. So every count is at most `recommendations`
 * and accepted / recommendations is a proportion (what the gate's statistics need).
 */

/** Bumped when a field changes meaning. */
export const COUNTERS_FORMAT = 1;
/** Largest payload read: far above 32 versions of counters, far below anything that hurts. */
export const MAX_COUNTERS_BYTES = 16 * 1024;
/** Versions one payload may carry. */
export const MAX_COUNTER_VERSIONS = 32;

const VersionCountersSchema = Type.Object(
  {
    channel: Name('a channel name'),
    version: PositiveInt(),
    recommendations: Count(),
    accepted: Count(),
    liked: Count(),
    started: Count(),
    finished: Count(),
    skipped: Count(),
    /** Recommendations still inside their window: follow-ups may still come (their rate is not final). */
    open: Count(),
  },
  { additionalProperties: false },
);

export const DeviceCountersSchema = Type.Object(
  {
    format: Type.Literal(COUNTERS_FORMAT),
    deviceId: Name('a device id'),
    /** The follow-up window the device counts with, seconds. */
    windowSeconds: PositiveInt(),
    versions: Type.Array(VersionCountersSchema, {
      maxItems: MAX_COUNTER_VERSIONS,
      description: `an array of at most ${MAX_COUNTER_VERSIONS} versions`,
    }),
    at: IsoTime(),
  },
  { additionalProperties: false },
);

export type VersionCounters = Static<typeof VersionCountersSchema>;
export type DeviceCounters = Static<typeof DeviceCountersSchema>;

export const countersContract = contract(
  'counters',
  'A device’s online quality counters per model version (retained on devices/<id>/counters)',
  DeviceCountersSchema,
);

export type ParsedCounters = { ok: true; counters: DeviceCounters } | { ok: false; reason: string };

const COUNT_FIELDS = ['accepted', 'liked', 'started', 'finished', 'skipped', 'open'] as const;

/** Strict: unknown fields, wrong types and impossible counts are refused with the first reason found. */
export function parseCounters(payload: Uint8Array): ParsedCounters {
  if (payload.length > MAX_COUNTERS_BYTES)
    return { ok: false, reason: `payload is ${payload.length} bytes (at most ${MAX_COUNTERS_BYTES})` };
  const json = parseJsonBytes(payload);
  return json.ok ? validateCounters(json.value) : { ok: false, reason: 'not valid JSON' };
}

export function validateCounters(v: unknown): ParsedCounters {
  const fail = (reason: string): ParsedCounters => ({ ok: false, reason });
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail('not a JSON object');
  const format = (v as { format?: unknown }).format;
  if (format !== COUNTERS_FORMAT)
    return fail(`format must be ${COUNTERS_FORMAT}, got ${JSON.stringify(format)}`);
  const problems = countersContract.problems(v);
  if (problems.length > 0) return fail(problems[0]);
  const counters = v as DeviceCounters;
  if (Number.isNaN(Date.parse(counters.at))) return fail('at must be an ISO 8601 time');
  // What the schema cannot say: how the counts of one version fit together.
  const seen = new Set<string>();
  for (const [i, c] of counters.versions.entries()) {
    const where = `versions[${i}]`;
    for (const f of COUNT_FIELDS) {
      if (c[f] > c.recommendations)
        return fail(`${where}.${f} (${c[f]}) exceeds recommendations (${c.recommendations})`);
    }
    // An accepted answer had at least one positive follow-up; each positive answer is accepted.
    if (
      c.accepted < Math.max(c.liked, c.started, c.finished) ||
      c.accepted > c.liked + c.started + c.finished
    )
      return fail(`${where}.accepted (${c.accepted}) does not fit liked/started/finished`);
    const key = `${c.channel}@${c.version}`;
    if (seen.has(key)) return fail(`${where}: ${key} appears twice`);
    seen.add(key);
  }
  return { ok: true, counters };
}
