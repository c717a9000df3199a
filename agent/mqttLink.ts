import { readFile } from 'node:fs/promises';
import type { IClientOptions, MqttClient } from 'mqtt';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { connectMqtt } from '../common/mqttConnect.js';
import { safeUrl } from '../common/mqttSettings.js';
import {
  type MessageListener,
  mqttTransport,
  type Transport,
  withTimeout,
} from '../common/protocol/transport.js';
import { RateLimit } from '../common/rateLimit.js';
import type { AgentConfig } from './config.js';

/**
 * The agent's broker connection. start() never waits for the broker: a speaker must come up and
 * recommend from disk when the network is down. mqtt.js reconnects by itself; the delay doubles from
 * reconnectMinSeconds to reconnectMaxSeconds while attempts fail, and is reset by a successful connect.
 * The last will (retained status "offline") is set here, the payload built by the caller.
 *
 * The session is persistent: one client id per device (`bookrec-agent-<deviceId>`), no clean start, and
 * under MQTT 5 a session expiry (broker.sessionExpirySeconds; for 3.1.1 the broker's
 * persistent_client_expiration). The broker keeps the device's subscriptions and queues the QoS 1
 * signals and commands sent while it is away (at most max_queued_messages), and sends them right after
 * the CONNACK, before any SUBSCRIBE could be answered: so message listeners are kept here, not on a
 * client, and may be added before start() (the service adds the signal and command listeners first).
 * Two processes with the same device id take the session from each other, as one device should; the
 * state dir's lock (stateLock.ts) keeps a second agent on the same machine from starting at all.
 *
 * The link renews every subscription it was asked for on every reconnect, also when the broker says the
 * session is present: a session is shared by whoever connects with the client id, and another process
 * that unsubscribed it (a second agent exiting) left the running agent deaf for good, because mqtt.js
 * resubscribes only when the session is gone. mqtt.js's own resubscribe is off, as it skips a topic it
 * believes subscribed.
 */
export interface AgentLinkContext {
  broker: AgentConfig['broker'];
  deviceId: string;
  statusTopic: string;
  /** The retained offline status the broker publishes if the device vanishes. */
  will: () => string;
  log: Logger;
}

export class AgentLink {
  private readonly ctx: AgentLinkContext;
  private client: MqttClient | undefined;
  private inner: Transport | undefined;
  private readonly listeners = new Set<MessageListener>();
  /** Every topic subscribed and not unsubscribed since: renewed on each reconnect. */
  private readonly subscriptions = new Set<string>();
  private connects = 0;
  /** Works before start(): listeners wait in `listeners`, the rest needs the connection. */
  readonly transport: Transport = {
    subscribe: (topics) => {
      for (const topic of topics) this.subscriptions.add(topic);
      return this.connection().subscribe(topics);
    },
    unsubscribe: (topics) => {
      for (const topic of topics) this.subscriptions.delete(topic);
      return this.connection().unsubscribe(topics);
    },
    publish: (topic, payload, options) => this.connection().publish(topic, payload, options),
    onMessage: (listener) => {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    },
  };
  private readonly connectListeners = new Set<() => void>();
  private delayMs: number;
  /** Incoming messages dropped for their size (common/mqttPacketGuard.ts), and their log lines' limit. */
  droppedPackets = 0;
  private readonly dropLog = new RateLimit(5, 60_000);

  constructor(ctx: AgentLinkContext) {
    this.ctx = ctx;
    this.delayMs = ctx.broker.reconnectMinSeconds * 1000;
  }

  get online(): boolean {
    return this.client?.connected === true;
  }

  private connection(): Transport {
    if (!this.inner) throw new BookrecError('INTERNAL', 'link not started');
    return this.inner;
  }

  /** Called on every (re)connect. */
  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  async start(): Promise<void> {
    const b = this.ctx.broker;
    const options: IClientOptions = {
      clientId: agentClientId(this.ctx.deviceId),
      protocolVersion: b.mqttVersion === '5' ? 5 : 4,
      clean: false,
      // Renewed by renewSubscriptions() on every reconnect instead (see the class comment).
      resubscribe: false,
      // MQTT 5 only: 3.1.1 sessions last as long as the broker's persistent_client_expiration says.
      properties: b.mqttVersion === '5' ? { sessionExpiryInterval: b.sessionExpirySeconds } : undefined,
      connectTimeout: b.timeoutSeconds * 1000,
      reconnectPeriod: this.delayMs,
      // Nothing may pile up inside mqtt.js while offline: the Outbox is the bounded queue.
      queueQoSZero: false,
      username: b.username || this.ctx.deviceId,
      will: { topic: this.ctx.statusTopic, payload: Buffer.from(this.ctx.will()), qos: 1, retain: true },
    };
    if (b.password) options.password = b.password;
    if (b.ca) options.ca = await readTls(b.ca, 'CA certificate');
    if (b.cert) options.cert = await readTls(b.cert, 'client certificate');
    if (b.key) options.key = await readTls(b.key, 'client key');
    const where = safeUrl(b.url);
    this.ctx.log.info('connecting to the broker (in the background)', {
      broker: where,
      username: options.username,
    });
    const client = connectMqtt(b.url, options, {
      onDropped: (p) => {
        this.droppedPackets++;
        const held = this.dropLog.take();
        if (held === undefined) return;
        this.ctx.log.warn('incoming message dropped: larger than the packet limit', {
          topic: p.topic,
          bytes: p.bytes,
          droppedTotal: this.droppedPackets,
          notLogged: held,
        });
      },
    });
    this.client = client;
    this.inner = mqttTransport(client, { timeoutMs: b.timeoutSeconds * 1000 });
    // Every listener sees every message; the PUBACK waits for the work they return (a stored signal).
    this.inner.onMessage((topic, payload) => {
      const work: Promise<unknown>[] = [];
      for (const l of [...this.listeners]) {
        const job = l(topic, payload);
        if (job instanceof Promise) work.push(job);
      }
      return work.length > 0 ? Promise.allSettled(work) : undefined;
    });
    client.on('connect', () => {
      this.delayMs = b.reconnectMinSeconds * 1000;
      client.options.reconnectPeriod = this.delayMs;
      this.ctx.log.info('broker connected', { broker: where });
      if (this.connects++ > 0) this.renewSubscriptions();
      for (const l of [...this.connectListeners]) l();
    });
    client.on('close', () => {
      // Doubling on every close: mqtt.js reads reconnectPeriod when it schedules the next attempt.
      this.delayMs = Math.min(this.delayMs * 2, b.reconnectMaxSeconds * 1000);
      client.options.reconnectPeriod = this.delayMs;
    });
    client.on('offline', () =>
      this.ctx.log.warn('broker offline: working from disk', { retryMs: this.delayMs }),
    );
    // mqtt.js error messages hold the host and port at most, never the password.
    client.on('error', (err) => this.ctx.log.warn('mqtt error', { error: err.message }));
  }

  /**
   * Subscribes again to every topic the link holds. Not on the first connect: subscriptions made before
   * it wait in mqtt.js's queue and go out with it. Renewing one that is still in the session is harmless
   * (the broker replaces it and sends the retained message again, which the receiver ignores when known).
   */
  private renewSubscriptions(): void {
    const topics = [...this.subscriptions];
    if (topics.length === 0 || !this.inner) return;
    this.inner.subscribe(topics).then(
      () => this.ctx.log.debug('subscriptions renewed', { topics: topics.length }),
      (err: unknown) =>
        this.ctx.log.warn('renewing the subscriptions failed: trying again on the next connection', {
          error: errorMessage(err),
        }),
    );
  }

  /** A clean disconnect (the will is not sent: the caller publishes "offline" itself first). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.connectListeners.clear();
    await withTimeout(client.endAsync(), 2000, 'disconnect').catch((err: unknown) => {
      this.ctx.log.debug('forced disconnect', { error: errorMessage(err) });
      client.end(true);
    });
  }
}

/** The MQTT client id: one per device, so its session (queued signals and commands) outlives a restart. */
export function agentClientId(deviceId: string): string {
  return `bookrec-agent-${deviceId}`;
}

async function readTls(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new BookrecError('CONFIG_FILE', `${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}
