import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type ReceiverContext, type ReceiverEvent, ReleaseReceiver } from '../common/protocol/receiver.js';
import type { TrustedKeys } from '../common/protocol/signing.js';
import type { UpdateReport, UpdateResult } from '../common/protocol/status.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import { RateLimit } from '../common/rateLimit.js';
import type { ActiveModel, ModelStore } from './modelStore.js';
import type { StatusReporter } from './statusReporter.js';

/**
 * Model updates: the protocol's ReleaseReceiver (manifest checks, version rule, chunk window, sha256)
 * hands verified files to the ModelStore (stage -> load + self-test -> atomic switch). Every step is
 * reported on the events topic, and the outcome in the retained status (lastUpdate), which is what
 * deploy's rollout abort rule counts.
 */
export interface UpdaterContext {
  transport: MessageTransport;
  topics: TopicMap;
  channel: string;
  deviceId: string;
  agentVersion: string;
  keys: TrustedKeys;
  store: ModelStore;
  status: StatusReporter;
  log: Logger;
  /** Called after a switch, with the new model in use. */
  onInstalled: (model: ActiveModel) => void;
  /** Receiver tuning (tests shorten timeouts). */
  receiver?: Partial<Pick<ReceiverContext, 'chunkTimeoutMs' | 'maxAttempts' | 'windowChunks'>>;
}

export class Updater {
  private readonly ctx: UpdaterContext;
  private receiver: ReleaseReceiver | undefined;
  /** Last progress quarter reported per version, so progress events stay few. */
  private quarter = new Map<number, number>();
  /**
   * Refusals are logged and sent as events at most 5 a minute (the rest counted): anyone who can write
   * the manifest topic can send junk as fast as the broker takes it.
   */
  private readonly refusals = new RateLimit(5, 60_000);
  private refused = 0;

  constructor(ctx: UpdaterContext) {
    this.ctx = ctx;
  }

  /** Starts (or restarts, after a failed subscribe) the receiver. */
  async start(): Promise<void> {
    await this.stop();
    this.receiver = new ReleaseReceiver({
      transport: this.ctx.transport,
      topics: this.ctx.topics,
      channel: this.ctx.channel,
      deviceId: this.ctx.deviceId,
      agentVersion: this.ctx.agentVersion,
      keys: this.ctx.keys,
      state: () => this.ctx.store.state(),
      onRelease: async (release) => {
        const model = await this.ctx.store.install(release);
        this.ctx.onInstalled(model);
        this.report('installed', release.manifest.version);
        await this.ctx.status.event({
          phase: 'installed',
          channel: this.ctx.channel,
          version: release.manifest.version,
        });
      },
      onEvent: (e) => this.onEvent(e),
      ...this.ctx.receiver,
    });
    await this.receiver.start();
  }

  /** Stops following the channel; an install under way is finished first (the receiver waits for it). */
  async stop(): Promise<void> {
    if (this.receiver?.installing) this.ctx.log.info('stopping: finishing the install in progress', {});
    await this.receiver?.stop();
    this.receiver = undefined;
  }

  get busy(): boolean {
    return this.receiver?.busy ?? false;
  }

  private onEvent(e: ReceiverEvent): void {
    const log = this.ctx.log;
    const channel = this.ctx.channel;
    const send = (p: Promise<void>) =>
      p.catch((err: unknown) => log.warn('event not sent', { error: errorMessage(err) }));
    switch (e.type) {
      case 'started':
        log.info('release download started', { version: e.version, bytes: e.bytes, chunks: e.chunks });
        void send(this.ctx.status.event({ phase: 'started', channel, version: e.version }));
        return;
      case 'progress': {
        const q = Math.floor((4 * e.receivedChunks) / e.totalChunks);
        if (q > (this.quarter.get(e.version) ?? 0) && q < 4) {
          this.quarter.set(e.version, q);
          void send(
            this.ctx.status.event({ phase: 'progress', channel, version: e.version, reason: `${q * 25}%` }),
          );
        }
        return;
      }
      case 'complete':
        this.quarter.delete(e.version);
        log.info('release downloaded and verified', { version: e.version, bytes: e.bytes, ms: e.ms });
        void send(this.ctx.status.event({ phase: 'complete', channel, version: e.version }));
        return;
      case 'failed':
        log.error('release failed', { version: e.version, code: e.code, reason: e.reason });
        this.report('failed', e.version, e.code, e.reason);
        void send(
          this.ctx.status.event({
            phase: 'failed',
            channel,
            version: e.version,
            code: e.code,
            reason: e.reason,
          }),
        );
        return;
      case 'rejected': {
        // Only a manifest whose signature held says anything about a release: the retained status (what
        // the fleet view and the rollout abort rule count) changes for those alone.
        if (e.verified && e.version !== undefined) this.report('rejected', e.version, e.code, e.reason);
        else this.ctx.status.refused(e.code, e.reason);
        this.refused++;
        const held = this.refusals.take();
        if (held === undefined) return;
        const counts = {
          notReported: held,
          refusedTotal: this.refused,
        };
        log.warn(e.verified ? 'release refused' : 'manifest refused (not verified): ignored', {
          version: e.version,
          code: e.code,
          reason: e.reason,
          ...counts,
        });
        const more = held > 0 ? ` (${held} more refusals not reported)` : '';
        void send(
          this.ctx.status.event({
            phase: 'rejected',
            channel,
            version: e.verified ? e.version : undefined,
            code: e.code,
            reason: `${e.reason}${more}`.slice(0, 1000),
          }),
        );
        return;
      }
      case 'skipped':
        log.info('release skipped', { version: e.version, code: e.code });
        void send(
          this.ctx.status.event({
            phase: 'skipped',
            channel,
            version: e.version,
            code: e.code,
            reason: e.reason,
          }),
        );
        return;
      case 'retry':
        log.warn('chunks asked for again', { version: e.version, missing: e.missing, attempt: e.attempt });
        return;
      case 'transport':
        log.warn('transport trouble during an update', { reason: e.reason });
        return;
    }
  }

  private report(result: UpdateResult, version: number, code?: string, reason?: string): void {
    const report: UpdateReport = { channel: this.ctx.channel, version, result, at: new Date().toISOString() };
    if (code !== undefined) report.code = code.slice(0, 64);
    if (reason !== undefined) report.reason = reason.slice(0, 1000);
    this.ctx.status
      .record(report)
      .catch((err: unknown) => this.ctx.log.warn('status not sent', { error: errorMessage(err) }));
  }
}
