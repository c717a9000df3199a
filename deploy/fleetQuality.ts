import { type DeviceCounters, parseCounters } from '../common/protocol/counters.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { DeviceTable } from './deviceTable.js';
import { type ArmCounts, acceptanceRate } from './qualityGate.js';
import { type RetainedOptions, readRetained } from './retained.js';

/**
 * The fleet's online quality, from every device's retained counters (devices/<id>/counters): one row
 * per model version for `bookrec fleet`, and the canary-versus-rest arms the rollout gate judges.
 * Malformed counters are counted and their reasons kept (a few), never trusted and never fatal.
 */
export interface VersionRow extends ArmCounts {
  channel: string;
  version: number;
  rate: number;
}

export interface Arms {
  canary: ArmCounts;
  rest: ArmCounts;
}

export class QualityView extends DeviceTable<DeviceCounters> {
  constructor(maxDevices = 100_000) {
    super(
      'counters',
      (payload) => {
        const parsed = parseCounters(payload);
        return parsed.ok ? { ok: true, value: parsed.counters } : parsed;
      },
      maxDevices,
    );
  }

  /** Sums per (channel, version), sorted by channel then version. */
  rows(): VersionRow[] {
    const rows = new Map<string, VersionRow>();
    for (const d of this.devices.values()) {
      for (const v of d.versions) {
        const k = `${v.channel}@${v.version}`;
        const row = rows.get(k) ?? {
          channel: v.channel,
          version: v.version,
          devices: 0,
          recommendations: 0,
          accepted: 0,
          skipped: 0,
          rate: 0,
        };
        row.devices++;
        row.recommendations += v.recommendations;
        row.accepted += v.accepted;
        row.skipped += v.skipped;
        rows.set(k, row);
      }
    }
    return [...rows.values()]
      .map((r) => ({ ...r, rate: acceptanceRate(r) }))
      .sort((a, b) => (a.channel === b.channel ? a.version - b.version : a.channel < b.channel ? -1 : 1));
  }

  /**
   * The canary (this version of the channel) against the rest (every other version of the channel).
   * A device that served both counts in both arms' device numbers: its answers are split by version.
   */
  arms(channel: string, canaryVersion: number): Arms {
    const zero = (): ArmCounts => ({ devices: 0, recommendations: 0, accepted: 0, skipped: 0 });
    const canary = zero();
    const rest = zero();
    for (const d of this.devices.values()) {
      let inCanary = false;
      let inRest = false;
      for (const v of d.versions) {
        if (v.channel !== channel) continue;
        const arm = v.version === canaryVersion ? canary : rest;
        if (v.version === canaryVersion) inCanary = true;
        else inRest = true;
        arm.recommendations += v.recommendations;
        arm.accepted += v.accepted;
        arm.skipped += v.skipped;
      }
      if (inCanary) canary.devices++;
      if (inRest) rest.devices++;
    }
    return { canary, rest };
  }

  /** The second table of `bookrec fleet`. */
  render(): string {
    const header = ['version', 'devices', 'recommendations', 'accepted', 'skipped', 'acceptance'];
    const rows = this.rows().map((r) => [
      `${r.channel}@${r.version}`,
      String(r.devices),
      String(r.recommendations),
      String(r.accepted),
      String(r.skipped),
      r.recommendations > 0 ? `${(r.rate * 100).toFixed(1)}%` : '-',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join('  ')
        .trimEnd();
    const notes = [
      ...(this.refused > 0 ? [`${this.refused} counters refused: ${this.reasons.join('; ')}`] : []),
      ...(this.dropped > 0 ? [`${this.dropped} counters dropped: more than the table holds`] : []),
    ];
    if (rows.length === 0) return ['no quality counters yet', ...notes].join('\n');
    return [
      line(header),
      ...rows.map(line),
      '',
      'accepted: answers followed by a like, start or finish of a recommended book within the window',
      ...notes,
    ].join('\n');
  }
}

export interface QualityReadContext {
  transport: MessageTransport;
  topics: TopicMap;
  retained: RetainedOptions;
}

/** One snapshot of every device's retained counters. */
export async function qualitySnapshot(ctx: QualityReadContext): Promise<QualityView> {
  const view = new QualityView();
  const found = await readRetained(ctx.transport, ctx.topics.allDevices('counters'), ctx.retained);
  for (const [topic, payload] of found) view.apply(ctx.topics, topic, payload);
  return view;
}

/** The fleet's counters split into the canary arm (canaryVersion) and the rest of the channel. */
export async function readArms(
  ctx: QualityReadContext,
  channel: string,
  canaryVersion: number,
): Promise<Arms> {
  return (await qualitySnapshot(ctx)).arms(channel, canaryVersion);
}
