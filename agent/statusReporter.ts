import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { contract } from '../common/protocol/contract.js';
import {
  type DeviceEvent,
  type DeviceStatus,
  MAX_UPDATES,
  type OfflineWill,
  STATUS_SCHEMA,
  type UpdateReport,
  UpdateReportSchema,
} from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { ReleaseInfo } from './modelStore.js';
import type { Outbox } from './outbox.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * The device's status (online/offline, model, last updates, uptime) and its update events, in the shapes
 * of common/protocol/status.ts that deploy's fleet view and rollout rule read. The full status is retained
 * on two topics: `status`, which the broker replaces with the last will when the connection is lost, and
 * `report`, which keeps the last full status (the will is fixed at connect time and claims nothing but
 * "offline", so it is never stale). The update reports survive restarts (updates.json in the state dir).
 */
export interface StatusContext {
  outbox: Outbox;
  topics: TopicMap;
  deviceId: string;
  agentVersion: string;
  model: () => ReleaseInfo | undefined;
  log: Logger;
  /** Where the update reports are kept across restarts (the agent's state dir); none: memory only. */
  stateDir?: string;
  now?: () => number;
}

const UPDATES_FILE = 'updates.json';
const savedUpdates = contract('updates-file', 'update reports', UpdateReportSchema);

export class StatusReporter {
  private readonly ctx: StatusContext;
  private readonly startedAt: number;
  /** The last few update reports, oldest first; the last one is lastUpdate. */
  private updates: UpdateReport[] = [];
  private saving: Promise<void> = Promise.resolve();
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

  get lastUpdate(): UpdateReport | null {
    return this.updates.at(-1) ?? null;
  }

  /** Loads the update reports an earlier run kept; a damaged file is logged and ignored. */
  async load(): Promise<void> {
    if (!this.ctx.stateDir) return;
    let text: string;
    try {
      text = await readFile(join(this.ctx.stateDir, UPDATES_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.ctx.log.warn('update reports unreadable: starting without', { error: errorMessage(err) });
      return;
    }
    try {
      const list = JSON.parse(text) as unknown;
      if (!Array.isArray(list)) throw new Error('not a list');
      this.updates = list.filter((u) => savedUpdates.is(u)).slice(-MAX_UPDATES);
    } catch (err) {
      this.ctx.log.warn('update reports damaged: starting without', { error: errorMessage(err) });
    }
  }

  /**
   * A new update report: kept, saved, and then the status published. Saved first: what the fleet has
   * been told must survive a kill -9 right after it (the restarted agent reports it again).
   */
  async record(report: UpdateReport): Promise<void> {
    this.updates = [...this.updates, report].slice(-MAX_UPDATES);
    const dir = this.ctx.stateDir;
    if (dir) {
      const text = JSON.stringify(this.updates);
      this.saving = this.saving
        .then(() => writeFileAtomic(join(dir, UPDATES_FILE), text, STATE_FILE_MODE))
        .catch((err: unknown) => this.ctx.log.warn('update reports not saved', { error: errorMessage(err) }));
      await this.saving;
    }
    return this.publish();
  }

  /** Waits for the last save (stop). */
  async saved(): Promise<void> {
    await this.saving;
  }

  refused(code: string, reason: string): void {
    this.refusals++;
    this.lastRefusal = { code, reason, at: new Date(this.now()).toISOString() };
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
      updates: this.updates,
      uptimeSeconds: Math.round((this.now() - this.startedAt) / 1000),
      at: new Date(this.now()).toISOString(),
    };
  }

  /** The last will: offline, and nothing that could go stale. */
  will(): string {
    const will: OfflineWill = {
      schema: STATUS_SCHEMA,
      deviceId: this.ctx.deviceId,
      state: 'offline',
      connectionLost: true,
    };
    return JSON.stringify(will);
  }

  /** The retained status and report; queued with keys, so only the newest waits while offline. */
  async publish(state: 'online' | 'offline' = 'online'): Promise<void> {
    const payload = JSON.stringify(this.status(state));
    const options = { retain: true, json: true };
    // The report first: when both are read, a status newer than its report never shows an older model.
    const topic = (kind: 'status' | 'report') => this.ctx.topics.device(this.ctx.deviceId, kind);
    await this.ctx.outbox.send({ topic: topic('report'), payload, options, key: 'report' });
    await this.ctx.outbox.send({ topic: topic('status'), payload, options, key: 'status' });
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
