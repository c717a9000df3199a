import type { DeviceCounters } from '../common/protocol/counters.js';
import type { SeenStatus } from '../common/protocol/status.js';
import { parseStatus } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { DeviceTable } from './deviceTable.js';
import { QualityView } from './fleetQuality.js';
import { type FleetRow, fleetRows, parseRelease, type Release, renderRows } from './fleetTable.js';
import { type RetainedOptions, readRetained } from './retained.js';

/**
 * The fleet as the broker knows it: every device's retained status (the broker replaces it with the
 * device's last will, "offline", when the connection drops).
 */
export class FleetView extends DeviceTable<SeenStatus> {
  constructor(maxDevices = 100_000) {
    super(
      'status',
      (payload) => {
        const status = parseStatus(payload);
        return status ? { ok: true, value: status } : { ok: false, reason: 'not a valid status' };
      },
      maxDevices,
    );
  }

  list(): SeenStatus[] {
    return [...this.devices.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  }

  /** Devices per installed model version ("none" before the first install), and online/offline counts. */
  counts(): { versions: Map<string, number>; online: number; offline: number } {
    const versions = new Map<string, number>();
    let online = 0;
    for (const d of this.devices.values()) {
      const key = d.model ? `${d.model.channel}/${d.model.model}@${d.model.version}` : 'none';
      versions.set(key, (versions.get(key) ?? 0) + 1);
      if (d.state === 'online') online++;
    }
    return { versions, online, offline: this.devices.size - online };
  }

  /** The line under the table: devices, online/offline, and how many run each model version. */
  summary(): string {
    const { versions, online, offline } = this.counts();
    const perVersion = [...versions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([v, n]) => `${v}: ${n}`)
      .join(', ');
    return [
      `${this.devices.size} devices (${online} online, ${offline} offline)${perVersion ? `; ${perVersion}` : ''}`,
      ...(this.dropped > 0 ? [`${this.dropped} status messages dropped: more than the table holds`] : []),
    ].join('\n');
  }
}

/**
 * Everything `bookrec fleet` reads, kept current from retained messages: statuses, counters and each
 * channel's manifest. A cleared topic (empty payload) removes what it held.
 */
export class FleetState {
  readonly statuses = new FleetView();
  readonly quality = new QualityView();
  readonly releases = new Map<string, Release>();

  constructor(private readonly topics: TopicMap) {}

  /** The subscriptions that feed it. */
  filters(): string[] {
    return [this.topics.allDevices('status'), this.topics.allDevices('counters'), this.topics.allManifests()];
  }

  /** Applies one message; returns whether anything changed. */
  apply(topic: string, payload: Buffer): boolean {
    if (this.statuses.apply(this.topics, topic, payload) || this.quality.apply(this.topics, topic, payload))
      return true;
    const channel = /\/fleet\/([^/]+)\/manifest$/.exec(topic)?.[1];
    if (!channel || !topic.startsWith(`${this.topics.prefix}/fleet/`)) return false;
    const release = payload.length > 0 ? parseRelease(this.topics, topic, payload) : undefined;
    if (release && release.channel === channel) this.releases.set(channel, release);
    else return this.releases.delete(channel);
    return true;
  }

  rows(now: Date, staleMs: number): FleetRow[] {
    const counters = new Map<string, DeviceCounters>();
    for (const s of this.statuses.list()) {
      const c = this.quality.get(s.deviceId);
      if (c) counters.set(s.deviceId, c);
    }
    return fleetRows({ statuses: this.statuses.list(), counters, releases: this.releases, now, staleMs });
  }

  /** The devices table, the summary, and the quality table. */
  render(now: Date, staleMs: number): string {
    const rows = this.rows(now, staleMs);
    const stale = rows.filter((r) => r.state === 'stale').length;
    const hint =
      stale > 0 ? `\n${stale} stale (bookrec fleet forget DEVICE clears a device that is gone)` : '';
    return `${renderRows(rows, now)}\n\n${this.statuses.summary()}${hint}\n\n${this.quality.render()}`;
  }

  /** `bookrec fleet --json`: the same, as one document. */
  json(now: Date, staleMs: number): object {
    return {
      at: now.toISOString(),
      devices: this.rows(now, staleMs),
      versions: this.quality.rows(),
      releases: [...this.releases.values()].map(({ salt: _, ...r }) => r),
      refused: {
        statuses: this.statuses.refused,
        counters: this.quality.refused,
        reasons: this.quality.reasons,
      },
    };
  }
}

/** One snapshot of the fleet from retained statuses. */
export async function fleetSnapshot(
  transport: MessageTransport,
  topics: TopicMap,
  retained: RetainedOptions,
): Promise<FleetView> {
  const view = new FleetView();
  const statuses = await readRetained(transport, topics.allDevices('status'), retained);
  for (const [topic, payload] of statuses) view.apply(topics, topic, payload);
  return view;
}

/** One reading of everything the fleet view shows. */
export async function readFleet(
  transport: MessageTransport,
  topics: TopicMap,
  retained: RetainedOptions,
): Promise<FleetState> {
  const state = new FleetState(topics);
  for (const [topic, payload] of await readRetained(transport, state.filters(), retained)) {
    state.apply(topic, payload);
  }
  return state;
}
