import { parseJsonBytes } from '../../common/protocol/contract.js';
import { type SignedManifest, validateManifest } from '../../common/protocol/manifest.js';
import { eventContract } from '../../common/protocol/status.js';
import type { TopicMap } from '../../common/protocol/topics.js';
import { FleetView } from '../../deploy/fleet.js';
import { QualityView, type VersionRow } from '../../deploy/fleetQuality.js';

/**
 * The fleet as the dashboard shows it, kept live from the broker: deploy's FleetView (retained statuses,
 * whose last will says offline) and QualityView (retained counters), each release channel's retained
 * manifest, and the latest update event per device (started, progress, ...) for installs under way.
 * Everything is bounded by the same device limit; a malformed payload is counted, never trusted.
 */
export interface DeviceRow {
  deviceId: string;
  state: 'online' | 'offline';
  agentVersion: string;
  channel: string | null;
  model: string | null;
  version: number | null;
  /** The last install outcome the device reported, or an update under way seen on its events. */
  install: { phase: string; version: number; code?: string; reason?: string; at: string } | null;
  lastSeen: string;
}

export interface ChannelRow {
  channel: string;
  model: string;
  version: number;
  percent: number;
  serial: number;
  rollback: boolean;
  previousVersion: number | null;
  createdAt: string;
  keyId: string;
}

export interface FleetSnapshot {
  devices: DeviceRow[];
  counts: { total: number; online: number; offline: number };
  channels: ChannelRow[];
  quality: VersionRow[];
  refused: { status: number; counters: number; manifests: number; events: number };
  /** Whether rollout, rollback and forget are enabled (a token is configured). */
  actions: boolean;
  at: string;
}

type LiveEvent = NonNullable<DeviceRow['install']>;

export class FleetLive {
  readonly fleet: FleetView;
  readonly quality: QualityView;
  private readonly channels = new Map<string, SignedManifest>();
  private readonly events = new Map<string, LiveEvent>();
  private refusedManifests = 0;
  private refusedEvents = 0;

  constructor(
    private readonly topics: TopicMap,
    private readonly maxDevices = 100_000,
    private readonly maxChannels = 1000,
  ) {
    this.fleet = new FleetView(maxDevices);
    this.quality = new QualityView(maxDevices);
  }

  /** The topic filters to subscribe to. */
  filters(): string[] {
    return [
      this.topics.allDevices('status'),
      this.topics.allDevices('report'),
      this.topics.allDevices('counters'),
      this.topics.allDevices('events'),
      this.topics.allManifests(),
    ];
  }

  /** Applies one message; returns whether the picture changed. */
  apply(topic: string, payload: Buffer): boolean {
    if (this.fleet.apply(this.topics, topic, payload) || this.quality.apply(this.topics, topic, payload))
      return true;
    const deviceId = this.topics.parseDevice(topic, 'events');
    if (deviceId) return this.applyEvent(deviceId, payload);
    const channel = /^(.*)\/fleet\/([^/]+)\/manifest$/.exec(topic);
    if (channel && channel[1] === this.topics.prefix) return this.applyManifest(channel[2], payload);
    return false;
  }

  private applyEvent(deviceId: string, payload: Buffer): boolean {
    const json = parseJsonBytes(payload);
    if (!json.ok || !eventContract.is(json.value) || json.value.deviceId !== deviceId) {
      this.refusedEvents++;
      return false;
    }
    if (!this.events.has(deviceId) && this.events.size >= this.maxDevices) return false;
    const e = json.value;
    // A refused junk manifest's event carries no version: it says nothing about an install.
    if (e.version === undefined) return false;
    this.events.set(deviceId, {
      phase: e.phase,
      version: e.version,
      code: e.code,
      reason: e.reason,
      at: e.at,
    });
    return true;
  }

  private applyManifest(channel: string, payload: Buffer): boolean {
    if (payload.length === 0) return this.channels.delete(channel);
    let manifest: SignedManifest;
    try {
      manifest = validateManifest(JSON.parse(payload.toString('utf8')));
    } catch {
      this.refusedManifests++;
      return false;
    }
    if (
      manifest.channel !== channel ||
      (!this.channels.has(channel) && this.channels.size >= this.maxChannels)
    ) {
      this.refusedManifests++;
      return false;
    }
    this.channels.set(channel, manifest);
    return true;
  }

  snapshot(actions: boolean, now: Date = new Date()): FleetSnapshot {
    const devices = this.fleet.list().map((d): DeviceRow => {
      const report = d.lastUpdate;
      const live = this.events.get(d.deviceId);
      // The newer of the retained outcome and the live event: an install under way shows as such.
      const install =
        live && (!report || live.at > report.at)
          ? live
          : report
            ? {
                phase: report.result,
                version: report.version,
                code: report.code,
                reason: report.reason,
                at: report.at,
              }
            : null;
      return {
        deviceId: d.deviceId,
        state: d.state,
        agentVersion: d.agentVersion,
        channel: d.model?.channel ?? report?.channel ?? null,
        model: d.model?.model ?? null,
        version: d.model?.version ?? null,
        install,
        lastSeen: d.at,
      };
    });
    const online = devices.filter((d) => d.state === 'online').length;
    return {
      devices,
      counts: { total: devices.length, online, offline: devices.length - online },
      channels: [...this.channels.values()]
        .map((m) => ({
          channel: m.channel,
          model: m.model,
          version: m.version,
          percent: m.rollout.percent,
          serial: m.serial,
          rollback: m.rollback,
          previousVersion: m.previousVersion,
          createdAt: m.createdAt,
          keyId: m.keyId,
        }))
        .sort((a, b) => (a.channel < b.channel ? -1 : 1)),
      quality: this.quality.rows(),
      refused: {
        status: this.fleet.refused,
        counters: this.quality.refused,
        manifests: this.refusedManifests,
        events: this.refusedEvents,
      },
      actions,
      at: now.toISOString(),
    };
  }

  /** Forgetting a device here too (its retained topics are cleared on the broker by the caller). */
  forget(deviceId: string): void {
    this.events.delete(deviceId);
  }
}
