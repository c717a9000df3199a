import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { BookrecError } from '../common/errors.js';
import type { RecommendationMessage } from '../common/protocol/recommendation.js';
import type { Signal } from '../common/protocol/signals.js';
import type { TopicMap } from '../common/protocol/topics.js';
import { mqttTransport, type Transport, withTimeout } from '../common/protocol/transport.js';

/**
 * The readers' side of the simulated fleet: the local apps of every speaker (an e-reader writing
 * signals, a phone app asking for a recommendation), as one MQTT client. It writes
 * devices/<id>/signals and devices/<id>/commands and reads devices/+/recommendations, exactly the
 * topics a local app uses (docs/agent.md), so the agents are driven only through their public inputs.
 *
 * Memory is bounded: a recommendation is kept only while someone waits for it (one waiter per device
 * at a time); one that nobody asked for is counted and dropped.
 */
export interface DriverOptions {
  url: string;
  topics: TopicMap;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

interface Waiter {
  resolve: (m: RecommendationMessage) => void;
  reject: (err: Error) => void;
}

export class FleetDriver {
  readonly transport: Transport;
  /** Recommendations that arrived with no ask waiting (e.g. a button pressed by someone else). */
  unsolicited = 0;
  private readonly client: MqttClient;
  private readonly topics: TopicMap;
  private readonly timeoutMs: number;
  private readonly waiters = new Map<string, Waiter>();
  private commandSeq = 0;

  private constructor(client: MqttClient, options: DriverOptions) {
    this.client = client;
    this.topics = options.topics;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.transport = mqttTransport(client, { timeoutMs: this.timeoutMs });
    this.transport.onMessage((topic, payload) => this.onMessage(topic, payload));
  }

  static async connect(options: DriverOptions): Promise<FleetDriver> {
    const client = await mqtt.connectAsync(options.url, {
      clientId: `bookrec-sim-readers-${randomBytes(3).toString('hex')}`,
      username: options.username,
      password: options.password,
      protocolVersion: 4,
      reconnectPeriod: 500,
      connectTimeout: options.timeoutMs ?? 30_000,
    });
    const driver = new FleetDriver(client, options);
    await driver.transport.subscribe([options.topics.allDevices('recommendations')]);
    return driver;
  }

  /** Publishes signals to a device, in order, each one MQTT message (QoS 1), as a reader app would. */
  async signals(deviceId: string, signals: readonly Signal[]): Promise<void> {
    const topic = this.topics.device(deviceId, 'signals');
    for (const s of signals) {
      await this.transport.publish(
        topic,
        JSON.stringify({ bookId: s.bookId, kind: s.kind, at: new Date(s.at).toISOString() }),
        { retain: false, json: true },
      );
    }
  }

  /**
   * Asks a device for a recommendation over its commands topic (or, with `press`, by pressing its
   * fake button) and resolves with the recommendation it publishes next.
   */
  async ask(deviceId: string, press?: () => Promise<void>): Promise<RecommendationMessage> {
    if (this.waiters.has(deviceId)) {
      throw new BookrecError('SIM_BUSY', `${deviceId}: a recommendation is already being waited for`);
    }
    const answer = new Promise<RecommendationMessage>((resolve, reject) => {
      this.waiters.set(deviceId, { resolve, reject });
    });
    try {
      if (press) await press();
      else {
        await this.transport.publish(
          this.topics.device(deviceId, 'commands'),
          JSON.stringify({ id: `sim-${++this.commandSeq}`, command: 'recommend' }),
          { retain: false, json: true },
        );
      }
      return await withTimeout(answer, this.timeoutMs, `recommendation from ${deviceId}`);
    } finally {
      this.waiters.delete(deviceId);
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiters.values()) w.reject(new BookrecError('SIM_CLOSED', 'driver closed'));
    this.waiters.clear();
    await withTimeout(this.client.endAsync(), 2000, 'disconnect').catch(() => this.client.end(true));
  }

  private onMessage(topic: string, payload: Buffer): void {
    const id = this.topics.parseDevice(topic, 'recommendations');
    if (id === undefined) return;
    const waiter = this.waiters.get(id);
    if (!waiter) {
      this.unsolicited++;
      return;
    }
    try {
      waiter.resolve(JSON.parse(payload.toString('utf8')) as RecommendationMessage);
    } catch (err) {
      waiter.reject(new BookrecError('SIM_BAD_MESSAGE', `${topic}: not JSON (${(err as Error).message})`));
    }
  }
}
