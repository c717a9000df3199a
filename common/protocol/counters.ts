import { isValidName } from './topics.js';

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

export interface VersionCounters {
  channel: string;
  version: number;
  recommendations: number;
  accepted: number;
  liked: number;
  started: number;
  finished: number;
  skipped: number;
  /** Recommendations still inside their window: follow-ups may still come (their rate is not final). */
  open: number;
}

export interface DeviceCounters {
  format: number;
  deviceId: string;
  /** The follow-up window the device counts with, seconds. */
  windowSeconds: number;
  versions: VersionCounters[];
  at: string;
}

export type ParsedCounters = { ok: true; counters: DeviceCounters } | { ok: false; reason: string };

const COUNT_FIELDS = [
  'recommendations',
  'accepted',
  'liked',
  'started',
  'finished',
  'skipped',
  'open',
] as const;
const VERSION_FIELDS = new Set<string>(['channel', 'version', ...COUNT_FIELDS]);
const TOP_FIELDS = new Set(['format', 'deviceId', 'windowSeconds', 'versions', 'at']);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Strict: unknown fields, wrong types and impossible counts are refused with the first reason found. */
export function parseCounters(payload: Uint8Array): ParsedCounters {
  if (payload.length > MAX_COUNTERS_BYTES)
    return { ok: false, reason: `payload is ${payload.length} bytes (at most ${MAX_COUNTERS_BYTES})` };
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  return validateCounters(v);
}

export function validateCounters(v: unknown): ParsedCounters {
  const fail = (reason: string): ParsedCounters => ({ ok: false, reason });
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail('not a JSON object');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !TOP_FIELDS.has(k));
  if (unknown !== undefined) return fail(`unknown field ${unknown}`);
  if (o.format !== COUNTERS_FORMAT)
    return fail(`format must be ${COUNTERS_FORMAT}, got ${JSON.stringify(o.format)}`);
  if (!isValidName(o.deviceId)) return fail('deviceId must be a device id');
  if (!isCount(o.windowSeconds) || o.windowSeconds < 1)
    return fail('windowSeconds must be a positive integer');
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at))) return fail('at must be an ISO 8601 time');
  if (!Array.isArray(o.versions)) return fail('versions must be an array');
  if (o.versions.length > MAX_COUNTER_VERSIONS)
    return fail(`versions has ${o.versions.length} entries (at most ${MAX_COUNTER_VERSIONS})`);
  const seen = new Set<string>();
  const versions: VersionCounters[] = [];
  for (const [i, entry] of o.versions.entries()) {
    const where = `versions[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      return fail(`${where} is not an object`);
    const e = entry as Record<string, unknown>;
    const extra = Object.keys(e).find((k) => !VERSION_FIELDS.has(k));
    if (extra !== undefined) return fail(`${where}: unknown field ${extra}`);
    if (!isValidName(e.channel)) return fail(`${where}.channel must be a channel name`);
    if (!isCount(e.version) || e.version < 1) return fail(`${where}.version must be a positive integer`);
    for (const f of COUNT_FIELDS) {
      if (!isCount(e[f])) return fail(`${where}.${f} must be a non-negative integer`);
    }
    const c = e as unknown as VersionCounters;
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
    versions.push({
      channel: c.channel,
      version: c.version,
      recommendations: c.recommendations,
      accepted: c.accepted,
      liked: c.liked,
      started: c.started,
      finished: c.finished,
      skipped: c.skipped,
      open: c.open,
    });
  }
  return {
    ok: true,
    counters: {
      format: COUNTERS_FORMAT,
      deviceId: o.deviceId,
      windowSeconds: o.windowSeconds,
      versions,
      at: o.at,
    },
  };
}
