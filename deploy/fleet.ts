import type { DeviceCounters } from '../common/protocol/counters.js';
import type { SeenStatus } from '../common/protocol/status.js';
import { combineStatus, parseStatus } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { DeviceTable } from './deviceTable.js';
import { QualityView } from './fleetQuality.js';
import {
  count,
  type FleetRow,
  fleetRows,
  NO_DEVICES,
  parseRelease,
  type Release,
  renderReleases,
  renderRows,
} from './fleetTable.js';
import { type RetainedOptions, readRetained } from './retained.js';

const parse = (payload: Buffer) => {
  const status = parseStatus(payload);
  return status ? { ok: true as const, value: status } : { ok: false as const, reason: 'not a valid status' };
};

/**
 * The fleet as the broker knows it: every device's retained status, and its retained report (the last
 * full status it wrote). When a connection drops the broker replaces the status with the device's last
 * will, which says offline and nothing else; the model and the last update then come from the report, so
 * a device killed right after an install still shows the version it runs.
 */
export class FleetView extends DeviceTable<SeenStatus> {
  private readonly reports: DeviceTable<SeenStatus>;

  constructor(maxDevices = 100_000) {
    super('status', parse, maxDevices);
    this.reports = new DeviceTable('report', parse, maxDevices);
  }

  /** Applies a retained status or report; returns whether the view changed. */
  override apply(topics: TopicMap, topic: string, payload: Buffer): boolean {
    return super.apply(topics, topic, payload) || this.reports.apply(topics, topic, payload);
  }

  /** One line per device: its status, with the report filling in what a last will does not say. */
  list(): SeenStatus[] {
    const ids = new Set([...this.devices.keys(), ...this.reports.keys()]);
    return [...ids]
      .sort()
      .map((id) => combineStatus(this.devices.get(id), this.reports.get(id)))
      .filter((d): d is SeenStatus => d !== undefined);
  }

  /** Devices per installed model version ("none" before the first install), and online/offline counts. */
  counts(): { versions: Map<string, number>; online: number; offline: number } {
    const versions = new Map<string, number>();
    let online = 0;
    const all = this.list();
    for (const d of all) {
      const key = d.model
        ? `${d.model.channel}/${d.model.model}@${d.model.version}`
        : d.will
          ? 'unknown'
          : 'none';
      versions.set(key, (versions.get(key) ?? 0) + 1);
      if (d.state === 'online') online++;
    }
    return { versions, online, offline: all.length - online };
  }

  /** The line under the table: devices, online/offline, and how many run each model version. */
  summary(): string {
    const { versions, online, offline } = this.counts();
    const perVersion = [...versions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([v, n]) => `${v}: ${n}`)
      .join(', ');
    return [
      `${count(online + offline, 'device')} (${online} online, ${offline} offline)${perVersion ? `; ${perVersion}` : ''}`,
      ...(this.dropped > 0
        ? [`${count(this.dropped, 'status message')} dropped: more than the table holds`]
        : []),
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
    return [
      this.topics.allDevices('status'),
      this.topics.allDevices('report'),
      this.topics.allDevices('counters'),
      this.topics.allManifests(),
    ];
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
    const releases = this.releases.size > 0 ? `\n\n${renderReleases(this.releases.values())}` : '';
    // Releases may be out before any speaker reported: say both.
    // Counters without a status (a device that never published one) still show.
    const quality = this.quality.rows().length > 0 ? `\n\n${this.quality.render()}` : '';
    if (rows.length === 0) return `${NO_DEVICES}${releases}${quality}`;
    const stale = rows.filter((r) => r.state === 'stale').length;
    const hint =
      stale > 0 ? `\n${stale} stale (bookrec fleet forget DEVICE clears a device that is gone)` : '';
    return `${renderRows(rows, now)}${releases}\n\n${this.statuses.summary()}${hint}\n\n${this.quality.render()}`;
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
  const found = await readRetained(
    transport,
    [topics.allDevices('status'), topics.allDevices('report')],
    retained,
  );
  for (const [topic, payload] of found) view.apply(topics, topic, payload);
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
