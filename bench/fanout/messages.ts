import type { DeviceFailure } from './device.js';

/** What the bench tells a worker process (over the IPC channel) and what the worker answers. */

export interface WorkerPlan {
  host: string;
  port: number;
  /** Client ids (also the usernames) of this worker's devices. */
  ids: string[];
  /** One password shared by every device user of the bench broker. */
  password: string;
  prefix: string;
  channel: string;
  /** Trusted public keys, raw base64. */
  publicKeys: string[];
  /** Connections opened at once, per worker. */
  batch: number;
  keepaliveSeconds: number;
  maxPacketBytes: number;
  maxChunks: number;
  connectTimeoutMs: number;
}

export type ToWorker = { type: 'start'; plan: WorkerPlan } | { type: 'finish' };

export interface Unfinished {
  id: string;
  waitingFor: string;
}

export type FromWorker =
  | { type: 'connected'; connected: number; failed: DeviceFailure[]; ms: number }
  /** Every device's outcome (verified or failed), and the ones still waiting when told to finish. */
  | {
      type: 'done';
      verified: number;
      lastVerifiedAt: number;
      failed: DeviceFailure[];
      unfinished: Unfinished[];
    };
