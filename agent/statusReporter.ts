import type { Logger } from '../common/log.js';
import {
  type DeviceEvent,
  type DeviceStatus,
  STATUS_SCHEMA,
  type UpdateReport,
} from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { ReleaseInfo } from './modelStore.js';
import type { Outbox } from './outbox.js';

/**
 * The device's retained status (online/offline, model, last update, uptime) and its update events,
 * in the shapes of common/protocol/status.ts that deploy's fleet view and rollout rule read.
 */
export interface StatusContext {
  outbox: Outbox;
  topics: TopicMap;
  deviceId: string;
  agentVersion: string;
  model: () => ReleaseInfo | undefined;
  log: Logger;
  now?: () => number;
}

export class StatusReporter {
  private readonly ctx: StatusContext;
  private readonly startedAt: number;
  lastUpdate: UpdateReport | null = null;
  /**
   * Manifests refused before their signature held (junk, forgeries, unknown keys): counted and the last
   * one kept here, never put in the retained status, which speaks of real releases only.
   */
  refusals = 0;
  lastRefusal: { code: string; reason: string; at: string } | undefined;

  constructor(ctx: StatusContext) {
    this.ctx = ctx;
    this.startedAt = this.now();
  }

  private now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  status(state: 'online' | 'offline'): DeviceStatus {
    const m = this.ctx.model();
    return {
      schema: STATUS_SCHEMA,
      deviceId: this.ctx.deviceId,
      state,
      agentVersion: this.ctx.agentVersion,
      model: m ? { channel: m.channel, model: m.model, version: m.version } : null,
      lastUpdate: this.lastUpdate,
      uptimeSeconds: Math.round((this.now() - this.startedAt) / 1000),
      at: new Date(this.now()).toISOString(),
    };
  }

  /** The retained status; queued with a key, so only the newest waits while offline. */
  publish(state: 'online' | 'offline' = 'online'): Promise<void> {
    return this.ctx.outbox.send({
      topic: this.ctx.topics.device(this.ctx.deviceId, 'status'),
      payload: JSON.stringify(this.status(state)),
      options: { retain: true, json: true },
      key: 'status',
    });
  }

  refused(code: string, reason: string): void {
    this.refusals++;
    this.lastRefusal = { code, reason, at: new Date(this.now()).toISOString() };
  }

  event(e: Omit<DeviceEvent, 'schema' | 'deviceId' | 'kind' | 'at'>): Promise<void> {
    const event: DeviceEvent = {
      schema: STATUS_SCHEMA,
      deviceId: this.ctx.deviceId,
      kind: 'update',
      ...e,
      at: new Date(this.now()).toISOString(),
    };
    return this.ctx.outbox.send({
      topic: this.ctx.topics.device(this.ctx.deviceId, 'events'),
      payload: JSON.stringify(event),
      options: { retain: false, json: true },
    });
  }
}
