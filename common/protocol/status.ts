/**
 * Payloads a device publishes about itself: the retained status (its last will says offline) and the
 * update events. deploy reads them for the fleet view and the rollout abort rule; the agent writes them.
 */

/** Bumped when a status or event field changes meaning. */
export const STATUS_SCHEMA = 1;

export type UpdateResult = 'installed' | 'failed' | 'rejected';

export interface UpdateReport {
  channel: string;
  version: number;
  result: UpdateResult;
  /** The receiver's or installer's code, e.g. FILE_SHA256, when result is not installed. */
  code?: string;
  reason?: string;
  at: string;
}

export interface DeviceStatus {
  schema: number;
  deviceId: string;
  state: 'online' | 'offline';
  agentVersion: string;
  /** The installed model, null before the first install. */
  model: { channel: string; model: string; version: number } | null;
  lastUpdate: UpdateReport | null;
  uptimeSeconds: number;
  /** When the device wrote this status (for a last will: when it connected). */
  at: string;
}

/** A non-retained update event on devices/<id>/events. */
export interface DeviceEvent {
  schema: number;
  deviceId: string;
  kind: 'update';
  phase: 'started' | 'progress' | 'complete' | 'installed' | 'failed' | 'rejected' | 'skipped';
  channel: string;
  version: number;
  code?: string;
  reason?: string;
  at: string;
}

/**
 * Reads a status payload leniently (a fleet view shows what it can) but never trusts types: fields of
 * the wrong type become null. Returns undefined when the payload is not a status at all.
 */
export function parseStatus(payload: Uint8Array): DeviceStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.deviceId !== 'string' || (o.state !== 'online' && o.state !== 'offline')) return undefined;
  return {
    schema: typeof o.schema === 'number' ? o.schema : 0,
    deviceId: o.deviceId,
    state: o.state,
    agentVersion: typeof o.agentVersion === 'string' ? o.agentVersion : '?',
    model: parseModel(o.model),
    lastUpdate: parseUpdate(o.lastUpdate),
    uptimeSeconds: typeof o.uptimeSeconds === 'number' ? o.uptimeSeconds : 0,
    at: typeof o.at === 'string' ? o.at : '',
  };
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
  const results: UpdateResult[] = ['installed', 'failed', 'rejected'];
  if (typeof o.channel !== 'string' || typeof o.version !== 'number') return null;
  if (!results.includes(o.result as UpdateResult)) return null;
  return {
    channel: o.channel,
    version: o.version,
    result: o.result as UpdateResult,
    code: typeof o.code === 'string' ? o.code : undefined,
    reason: typeof o.reason === 'string' ? o.reason : undefined,
    at: typeof o.at === 'string' ? o.at : '',
  };
}
