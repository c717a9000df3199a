import { type Static, Type } from '@sinclair/typebox';
import { contract, parseJsonBytes } from './contract.js';
import { IsoTime, Name, PositiveInt } from './fields.js';

/**
 * Payloads a device publishes about itself: its full status, retained on two topics, `status` and
 * `report`; the update events. A connection's last will is fixed when the connection is made, so it
 * cannot know what the device installs later: the will (on `status` only) says offline and claims
 * nothing else, and `report`, which no will replaces, keeps the last full status. deploy reads both for
 * the fleet view and the rollout abort rule; the agent writes them.
 */

/** Bumped when a status or event field changes meaning. */
export const STATUS_SCHEMA = 1;

/** Update reports a status carries in `updates`. */
export const MAX_UPDATES = 8;

export const UPDATE_RESULTS = ['installed', 'failed', 'rejected'] as const;
export type UpdateResult = (typeof UPDATE_RESULTS)[number];

const Code = () => Type.String({ maxLength: 64, description: "the receiver's or installer's error code" });
const Reason = () => Type.String({ maxLength: 1000 });

export const UpdateReportSchema = Type.Object(
  {
    channel: Name('a channel name'),
    version: PositiveInt(),
    result: Type.Union(
      UPDATE_RESULTS.map((r) => Type.Literal(r)),
      { description: UPDATE_RESULTS.join(', ') },
    ),
    /** e.g. FILE_SHA256, when result is not installed. */
    code: Type.Optional(Code()),
    reason: Type.Optional(Reason()),
    at: IsoTime(),
  },
  { additionalProperties: false },
);
export type UpdateReport = Static<typeof UpdateReportSchema>;

export const DeviceStatusSchema = Type.Object(
  {
    schema: Type.Literal(STATUS_SCHEMA),
    deviceId: Name('a device id'),
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')], {
      description: 'online or offline',
    }),
    agentVersion: Type.String({ maxLength: 32 }),
    /** The installed model, null before the first install. */
    model: Type.Union(
      [
        Type.Object(
          { channel: Name('a channel name'), model: Name('a model name'), version: PositiveInt() },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: '{channel, model, version} or null' },
    ),
    lastUpdate: Type.Union([UpdateReportSchema, Type.Null()], { description: 'an update report or null' }),
    /** The last few update reports, oldest first (the last is lastUpdate): what rollback checks. */
    updates: Type.Optional(Type.Array(UpdateReportSchema, { maxItems: MAX_UPDATES })),
    uptimeSeconds: Type.Number({ minimum: 0 }),
    /** When the device wrote this status. */
    at: IsoTime(),
  },
  { additionalProperties: false },
);
export type DeviceStatus = Static<typeof DeviceStatusSchema>;

/**
 * The last will on devices/<id>/status: the broker publishes it when the connection is lost. It says
 * offline and nothing else: a will is fixed at connect time, so a model or an update in it would be stale
 * after the next install. The last full status stays on devices/<id>/report.
 */
export const OfflineWillSchema = Type.Object(
  {
    schema: Type.Literal(STATUS_SCHEMA),
    deviceId: Name('a device id'),
    state: Type.Literal('offline', { description: 'offline' }),
    connectionLost: Type.Literal(true, { description: 'true: the last will (the connection was lost)' }),
  },
  { additionalProperties: false },
);
export type OfflineWill = Static<typeof OfflineWillSchema>;

export const UPDATE_PHASES = [
  'started',
  'progress',
  'complete',
  'installed',
  'failed',
  'rejected',
  'skipped',
] as const;

/** A non-retained update event on devices/<id>/events. */
export const DeviceEventSchema = Type.Object(
  {
    schema: Type.Literal(STATUS_SCHEMA),
    deviceId: Name('a device id'),
    kind: Type.Literal('update'),
    phase: Type.Union(
      UPDATE_PHASES.map((p) => Type.Literal(p)),
      { description: UPDATE_PHASES.join(', ') },
    ),
    channel: Name('a channel name'),
    /** Absent when a manifest was refused before its signature held: nothing in it can be believed. */
    version: Type.Optional(PositiveInt()),
    code: Type.Optional(Code()),
    reason: Type.Optional(Reason()),
    at: IsoTime(),
  },
  { additionalProperties: false },
);
export type DeviceEvent = Static<typeof DeviceEventSchema>;

export const statusContract = contract(
  'status',
  'A device’s status (retained on devices/<id>/status), or its last will saying offline',
  Type.Union([DeviceStatusSchema, OfflineWillSchema]),
);
export const reportContract = contract(
  'report',
  'A device’s last full status (retained on devices/<id>/report; no last will replaces it)',
  DeviceStatusSchema,
);
export const eventContract = contract(
  'event',
  'A device’s update event (devices/<id>/events)',
  DeviceEventSchema,
);

/**
 * A status as a fleet view reads it: any schema number, fields of the wrong type made empty. `will`: it
 * is a last will, which says offline and nothing else (model and lastUpdate are null, not known).
 */
export type SeenStatus = Omit<DeviceStatus, 'schema' | 'updates'> & {
  schema: number;
  will: boolean;
  updates: UpdateReport[];
};

/**
 * Reads a status payload leniently (a fleet view shows what it can, also from older or newer agents)
 * but never trusts types: fields of the wrong type become null. Returns undefined when the payload is
 * not a status at all.
 */
export function parseStatus(payload: Uint8Array): SeenStatus | undefined {
  const json = parseJsonBytes(payload);
  if (!json.ok) return undefined;
  const v = json.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.deviceId !== 'string' || (o.state !== 'online' && o.state !== 'offline')) return undefined;
  const updates = Array.isArray(o.updates) ? o.updates.slice(-MAX_UPDATES).map(parseUpdate) : [];
  return {
    schema: typeof o.schema === 'number' ? o.schema : 0,
    deviceId: o.deviceId,
    state: o.state,
    will: o.connectionLost === true,
    agentVersion: typeof o.agentVersion === 'string' ? o.agentVersion : '?',
    model: parseModel(o.model),
    lastUpdate: parseUpdate(o.lastUpdate),
    updates: updates.filter((u): u is UpdateReport => u !== null),
    uptimeSeconds: typeof o.uptimeSeconds === 'number' ? o.uptimeSeconds : 0,
    at: typeof o.at === 'string' ? o.at : '',
  };
}

/**
 * What a fleet view shows for one device from its two retained payloads: the status says whether it is
 * online; when the status is a last will (or missing), the rest comes from the report, the last full
 * status the device wrote, marked offline.
 */
export function combineStatus(
  status: SeenStatus | undefined,
  report: SeenStatus | undefined,
): SeenStatus | undefined {
  if (!status) return report;
  if (!status.will || !report) return status;
  return { ...report, state: 'offline', will: true };
}

function parseModel(v: unknown): DeviceStatus['model'] {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.channel !== 'string' || typeof o.model !== 'string' || typeof o.version !== 'number')
    return null;
  return { channel: o.channel, model: o.model, version: o.version };
}

function parseUpdate(v: unknown): UpdateReport | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.channel !== 'string' || typeof o.version !== 'number') return null;
  if (!(UPDATE_RESULTS as readonly unknown[]).includes(o.result)) return null;
  return {
    channel: o.channel,
    version: o.version,
    result: o.result as UpdateResult,
    code: typeof o.code === 'string' ? o.code : undefined,
    reason: typeof o.reason === 'string' ? o.reason : undefined,
    at: typeof o.at === 'string' ? o.at : '',
  };
}
