import { escapeControls } from '../common/logText.js';
import { cardFromMetrics, cardSummary, type EvaluationCard } from '../common/model/evaluationCard.js';
import { parseJsonBytes } from '../common/protocol/contract.js';
import type { DeviceCounters } from '../common/protocol/counters.js';
import { manifestContract } from '../common/protocol/manifest.js';
import { inRollout } from '../common/protocol/rolloutBucket.js';
import type { SeenStatus } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';

/**
 * What `bookrec fleet` shows per device, joined from the retained topics: the status, the counters and
 * the channel's manifest (whether the device is in the current rollout, and how its install stands).
 * Pure: rows from tables and a clock, so the table, --json, the change lines and a dashboard agree.
 */
export interface Release {
  channel: string;
  model: string;
  version: number;
  percent: number;
  salt: string;
  /** The release's evaluation card (its signed metrics, from the package's card.json), when it has one. */
  card?: Omit<EvaluationCard, 'format' | 'dataset'>;
}

export type InstallState = 'installed' | 'pending' | 'failed' | 'rejected' | 'not in rollout';

export interface FleetRow {
  deviceId: string;
  /** stale: offline and not heard from for longer than the stale limit. */
  state: 'online' | 'offline' | 'stale';
  /** Newest time the device wrote (status or counters), ISO; '' when unknown. */
  lastSeen: string;
  agentVersion: string;
  /** The channel of its model (or of its last update); null before either. */
  channel: string | null;
  model: string | null;
  version: number | null;
  /** The channel's current release, when its manifest is retained. */
  release: { version: number; percent: number; inRollout: boolean } | null;
  install: { state: InstallState; version: number; code?: string } | null;
  recommendations: number;
  accepted: number;
  /** accepted / recommendations over every version, null before the first answer. */
  acceptance: number | null;
}

export interface FleetSources {
  statuses: SeenStatus[];
  counters: Map<string, DeviceCounters>;
  releases: Map<string, Release>;
  now: Date;
  staleMs: number;
}

export function fleetRows(s: FleetSources): FleetRow[] {
  return s.statuses.map((status) => {
    const counters = s.counters.get(status.deviceId);
    const lastSeen = [status.at, counters?.at ?? '']
      .filter((t) => !Number.isNaN(Date.parse(t)))
      .sort()
      .at(-1);
    const channel = status.model?.channel ?? status.lastUpdate?.channel ?? null;
    const current = channel ? s.releases.get(channel) : undefined;
    const recommendations = counters?.versions.reduce((n, v) => n + v.recommendations, 0) ?? 0;
    const accepted = counters?.versions.reduce((n, v) => n + v.accepted, 0) ?? 0;
    const old = lastSeen !== undefined && s.now.getTime() - Date.parse(lastSeen) > s.staleMs;
    return {
      deviceId: status.deviceId,
      state: status.state === 'online' ? 'online' : old ? 'stale' : 'offline',
      lastSeen: lastSeen ?? '',
      agentVersion: status.agentVersion,
      channel,
      model: status.model?.model ?? null,
      version: status.model?.version ?? null,
      release: current
        ? {
            version: current.version,
            percent: current.percent,
            inRollout: inRollout(status.deviceId, current),
          }
        : null,
      install: current ? installOf(status, current) : null,
      recommendations,
      accepted,
      acceptance: recommendations > 0 ? accepted / recommendations : null,
    };
  });
}

function installOf(status: SeenStatus, release: Release): FleetRow['install'] {
  const v = release.version;
  if (status.model?.channel === release.channel && status.model.version === v) {
    return { state: 'installed', version: v };
  }
  const last = status.lastUpdate;
  if (last && last.channel === release.channel && last.version === v && last.result !== 'installed') {
    return { state: last.result, version: v, ...(last.code ? { code: last.code } : {}) };
  }
  return { state: inRollout(status.deviceId, release) ? 'pending' : 'not in rollout', version: v };
}

/** Reads a retained channel manifest for display (not trusted for anything: devices check signatures). */
export function parseRelease(topics: TopicMap, topic: string, payload: Buffer): Release | undefined {
  const prefix = `${topics.prefix}/fleet/`;
  if (!topic.startsWith(prefix) || !topic.endsWith('/manifest')) return undefined;
  const json = parseJsonBytes(payload);
  if (!json.ok || !manifestContract.is(json.value)) return undefined;
  const m = json.value;
  const card = cardFromMetrics(m.metrics);
  return { channel: m.channel, model: m.model, version: m.version, ...m.rollout, ...(card ? { card } : {}) };
}

/** One line per channel's current release with its evaluation card: what was shipped, and how good. */
export function renderReleases(releases: Iterable<Release>): string {
  return [...releases]
    .sort((a, b) => a.channel.localeCompare(b.channel))
    .map(
      (r) =>
        `release ${r.channel} v${r.version} (${r.model}): ${r.card ? cardSummary(r.card) : 'no evaluation card'}`,
    )
    .join('\n');
}

/** "1 device", "2 devices", "0 devices". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What `bookrec fleet` shows before any device reported: what to do instead of an empty table. */
export const NO_DEVICES = [
  'no devices yet: a speaker appears here once its agent connects to this broker and publishes its status.',
  'Start one with `bookrec agent --device-id kitchen --broker URL --trusted-keys "$(cat deploy-key.pub)"`',
  '(docs/agent.md), or install the .deb on a Raspberry Pi (docs/raspberry-pi.md).',
].join('\n');

/** "now", "42 s ago", "5 min ago", "3 h ago", "12 d ago". */
export function ago(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now.getTime() - t) / 1000));
  if (s < 5) return 'now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** The cells of one row as the table shows them. */
export function rowCells(r: FleetRow, now: Date): Record<(typeof COLUMNS)[number], string> {
  // A device writes its own status: an agent version holding ESC must not reach the terminal.
  const cells = shownCells(r, now);
  for (const c of COLUMNS) cells[c] = escapeControls(cells[c]);
  return cells;
}

function shownCells(r: FleetRow, now: Date): Record<(typeof COLUMNS)[number], string> {
  return {
    device: r.deviceId,
    state: r.state,
    'last seen': r.state === 'online' ? 'now' : ago(r.lastSeen, now),
    agent: r.agentVersion,
    channel: r.channel ?? '-',
    model: r.model && r.version !== null ? `${r.model}@${r.version}` : '-',
    rollout: r.release
      ? `${r.release.inRollout ? 'in' : 'out'} (${r.release.percent}% of v${r.release.version})`
      : '-',
    install: r.install
      ? `${r.install.state}${r.install.state === 'not in rollout' ? '' : ` v${r.install.version}`}${r.install.code ? ` (${r.install.code})` : ''}`
      : '-',
    acceptance:
      r.acceptance === null
        ? '-'
        : `${(r.acceptance * 100).toFixed(1)}% (${r.accepted}/${r.recommendations})`,
  };
}

export const COLUMNS = [
  'device',
  'state',
  'last seen',
  'agent',
  'channel',
  'model',
  'rollout',
  'install',
  'acceptance',
] as const;

export function renderRows(rows: FleetRow[], now: Date): string {
  const cells = rows.map((r) => COLUMNS.map((c) => rowCells(r, now)[c]));
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), ...cells.map(line)].join('\n');
}

/**
 * What changed for one device between two readings, as one line for a log or a pipe; undefined when
 * nothing a person follows changed (a newer last-seen time alone is not news).
 */
export function changeLine(
  before: FleetRow | undefined,
  after: FleetRow | undefined,
  now: Date,
): string | undefined {
  const clock = now.toISOString().slice(11, 19);
  if (!after) return before ? `${clock} ${before.deviceId}: gone (its status was cleared)` : undefined;
  const b = before ? rowCells(before, now) : undefined;
  const a = rowCells(after, now);
  if (!b) {
    const shown = COLUMNS.filter((c) => c !== 'device' && c !== 'last seen' && a[c] !== '-');
    return `${clock} ${after.deviceId}: ${shown.map((c) => `${c} ${a[c]}`).join(', ')}`;
  }
  const changed = COLUMNS.filter((c) => c !== 'last seen' && a[c] !== b[c]);
  if (changed.length === 0) return undefined;
  return `${clock} ${after.deviceId}: ${changed.map((c) => `${c} ${b[c]} -> ${a[c]}`).join(', ')}`;
}
