import type { SeenStatus } from '../common/protocol/status.js';
import { combineStatus, parseStatus } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { DeviceTable } from './deviceTable.js';
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

  /** A plain-text table: one line per device, then the counts. */
  render(): string {
    const header = ['device', 'state', 'agent', 'model', 'last update', 'last seen'];
    const rows = this.list().map((d) => [
      d.deviceId,
      d.state,
      d.agentVersion,
      d.model ? `${d.model.channel}/${d.model.model}@${d.model.version}` : d.will ? '?' : '-',
      d.lastUpdate
        ? `v${d.lastUpdate.version} ${d.lastUpdate.result}${d.lastUpdate.code ? ` (${d.lastUpdate.code})` : ''}`
        : '-',
      d.at || '-',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
    const { versions, online, offline } = this.counts();
    const summary = [...versions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([v, n]) => `${v}: ${n}`)
      .join(', ');
    return [
      line(header),
      ...rows.map(line),
      '',
      `${online + offline} devices (${online} online, ${offline} offline)${summary ? `; ${summary}` : ''}`,
      ...(this.dropped > 0 ? [`${this.dropped} status messages dropped: more than the table holds`] : []),
    ].join('\n');
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
