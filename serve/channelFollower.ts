import type { MqttClient } from 'mqtt';
import { errorMessage } from '../common/errors.js';
import { bytesPackageSource } from '../common/inference/bytesPackageSource.js';
import type { EngineLoader } from '../common/inference/engine.js';
import { openTested } from '../common/inference/openTested.js';
import type { Logger } from '../common/log.js';
import { connectMqtt } from '../common/mqttConnect.js';
import { safeUrl } from '../common/mqttSettings.js';
import {
  type ReceivedRelease,
  type ReceiverContext,
  type ReceiverEvent,
  ReleaseReceiver,
} from '../common/protocol/receiver.js';
import type { TrustedKeys } from '../common/protocol/signing.js';
import type { TopicMap } from '../common/protocol/topics.js';
import { mqttTransport, type Transport, withTimeout } from '../common/protocol/transport.js';
import { projectVersion } from '../common/version.js';
import { clientOptions } from '../deploy/link.js';
import type { ServeConfig } from './config.js';
import type { ModelSlot } from './modelSlot.js';

export interface FollowerContext {
  broker: ServeConfig['broker'];
  topics: TopicMap;
  channel: string;
  deviceId: string;
  keys: TrustedKeys;
  slot: ModelSlot;
  log: Logger;
  loadOther?: EngineLoader;
  /** Every receiver event (metrics count them). */
  onEvent?: (event: ReceiverEvent) => void;
  /** Receiver tuning (tests shorten timeouts). */
  receiver?: Partial<Pick<ReceiverContext, 'chunkTimeoutMs' | 'maxAttempts' | 'windowChunks'>>;
}

/**
 * Follows a release channel exactly as a speaker does: the protocol's ReleaseReceiver checks the signed
 * manifest, the version rule and the rollout bucket, fetches and sha256-checks every file; then the
 * package is opened and self-tested (openTested) in memory and swapped in. A release that fails any
 * step is logged and the model in service stays. The server starts without the broker and keeps trying:
 * /readyz says when a model is in.
 */
export class ChannelFollower {
  private client: MqttClient | undefined;
  private transport: Transport | undefined;
  private receiver: ReleaseReceiver | undefined;
  private stopped = false;

  constructor(private readonly ctx: FollowerContext) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async start(): Promise<void> {
    const options = await clientOptions({
      ...this.ctx.broker,
      username: this.ctx.broker.username || this.ctx.deviceId,
      clientId: this.ctx.broker.clientId || `bookrec-serve-${this.ctx.deviceId}-${Date.now().toString(36)}`,
    });
    const where = safeUrl(this.ctx.broker.url);
    this.ctx.log.info('following a release channel', { broker: where, channel: this.ctx.channel });
    // The packet guard as on a speaker: a huge message on a followed topic is skipped, not buffered.
    const client = connectMqtt(
      this.ctx.broker.url,
      { ...options, queueQoSZero: false },
      {
        onDropped: (p) =>
          this.ctx.log.warn('incoming message dropped: larger than the packet limit', {
            topic: p.topic,
            bytes: p.bytes,
          }),
      },
    );
    this.client = client;
    this.transport = mqttTransport(client, { timeoutMs: this.ctx.broker.timeoutSeconds * 1000 });
    // A clean session forgets subscriptions: every (re)connect starts the receiver again, as the agent does.
    client.on('connect', () => {
      this.ctx.log.info('broker connected', { broker: where });
      void this.restartReceiver();
    });
    client.on('offline', () => this.ctx.log.warn('broker offline: serving the model in memory'));
    client.on('error', (err) => this.ctx.log.warn('mqtt error', { error: err.message }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.receiver?.stop().catch(() => undefined);
    this.receiver = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await withTimeout(client.endAsync(), 2000, 'disconnect').catch(() => client.end(true));
  }

  private async restartReceiver(): Promise<void> {
    await this.receiver?.stop().catch(() => undefined);
    if (this.stopped || !this.transport) return;
    this.receiver = new ReleaseReceiver({
      transport: this.transport,
      topics: this.ctx.topics,
      channel: this.ctx.channel,
      deviceId: this.ctx.deviceId,
      agentVersion: projectVersion(),
      keys: this.ctx.keys,
      state: () => this.ctx.slot.state(),
      onRelease: (release) => this.install(release),
      onEvent: (e) => this.onEvent(e),
      ...this.ctx.receiver,
    });
    await this.receiver
      .start()
      .catch((err: unknown) => this.ctx.log.warn('subscribe failed', { error: errorMessage(err) }));
  }

  /** Open and self-test in memory, then swap: nothing is served that did not pass every check. */
  private async install(release: ReceivedRelease): Promise<void> {
    const { manifest } = release;
    const files = new Map<string, Uint8Array>(release.files.map((f) => [f.name, new Uint8Array(f.data)]));
    const model = await openTested(bytesPackageSource(`${manifest.channel}@${manifest.version}`, files), {
      loadOther: this.ctx.loadOther,
    });
    this.ctx.slot.swap({
      model,
      name: manifest.model,
      version: manifest.version,
      from: 'channel',
      signed: { manifest, files },
    });
    this.ctx.log.info('release in service', {
      channel: manifest.channel,
      model: manifest.model,
      version: manifest.version,
      books: model.catalogue.length,
      engine: model.engine.kind,
    });
  }

  private onEvent(e: ReceiverEvent): void {
    this.ctx.onEvent?.(e);
    const log = this.ctx.log;
    switch (e.type) {
      case 'rejected':
      case 'failed':
        log.error(`release ${e.type}`, { version: e.version, code: e.code, reason: e.reason });
        return;
      case 'skipped':
        log.info('release skipped', { version: e.version, code: e.code });
        return;
      case 'started':
        log.info('release download started', { version: e.version, bytes: e.bytes });
        return;
      case 'complete':
        log.info('release downloaded and verified', { version: e.version, ms: e.ms });
        return;
      case 'transport':
        log.warn('transport trouble during an update', { reason: e.reason });
        return;
      default:
        return;
    }
  }
}
