import type { DeviceTopicKind, TopicMap } from '../common/protocol/topics.js';

/** A device's retained payload, parsed: the value, or why it was refused. */
export type ParsedPayload<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Reasons of refused payloads kept for display. */
const MAX_REASONS = 5;

/**
 * One retained message per device, as the broker holds them on devices/<id>/<kind>: the fleet table
 * (status) and the quality view (counters) are both this, bounded, with the topic deciding which device
 * a payload belongs to (a payload naming another device is not believed). An empty payload clears the
 * device. Refused payloads are counted with a few reasons; devices beyond the bound are counted as
 * dropped, never silently lost.
 */
export class DeviceTable<T extends { deviceId: string }> {
  protected readonly devices = new Map<string, T>();
  /** Payloads refused (malformed, or naming another device than their topic). */
  refused = 0;
  readonly reasons: string[] = [];
  /** Payloads dropped because the table was full. */
  dropped = 0;

  constructor(
    private readonly kind: DeviceTopicKind,
    private readonly parse: (payload: Buffer) => ParsedPayload<T>,
    private readonly maxDevices: number,
  ) {}

  get size(): number {
    return this.devices.size;
  }

  get(deviceId: string): T | undefined {
    return this.devices.get(deviceId);
  }

  keys(): IterableIterator<string> {
    return this.devices.keys();
  }

  /** Applies one retained message; returns whether the table changed. */
  apply(topics: TopicMap, topic: string, payload: Buffer): boolean {
    const id = topics.parseDevice(topic, this.kind);
    if (!id) return false;
    if (payload.length === 0) return this.devices.delete(id);
    const parsed = this.parse(payload);
    const reason = !parsed.ok
      ? parsed.reason
      : parsed.value.deviceId !== id
        ? `names device ${parsed.value.deviceId}`
        : undefined;
    if (!parsed.ok || reason) {
      this.refused++;
      if (this.reasons.length < MAX_REASONS) this.reasons.push(`${id}: ${reason}`);
      return false;
    }
    if (!this.devices.has(id) && this.devices.size >= this.maxDevices) {
      this.dropped++;
      return false;
    }
    this.devices.set(id, parsed.value);
    return true;
  }
}
