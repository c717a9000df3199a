import type { SeenStatus } from '../common/protocol/status.js';
import { parseStatus } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { DeviceTable } from './deviceTable.js';
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

  /** A plain-text table: one line per device, then the counts. */
  render(): string {
    const header = ['device', 'state', 'agent', 'model', 'last update', 'last seen'];
    const rows = this.list().map((d) => [
      d.deviceId,
      d.state,
      d.agentVersion,
      d.model ? `${d.model.channel}/${d.model.model}@${d.model.version}` : '-',
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
      `${this.devices.size} devices (${online} online, ${offline} offline)${summary ? `; ${summary}` : ''}`,
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
  const statuses = await readRetained(transport, topics.allDevices('status'), retained);
  for (const [topic, payload] of statuses) view.apply(topics, topic, payload);
  return view;
}
