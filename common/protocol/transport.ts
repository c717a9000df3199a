import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { BookrecError } from '../errors.js';

/**
 * The thin adapter between protocol logic and an MQTT client. Logic depends only on these interfaces;
 * tests hand in an in-memory broker, production hands in mqtt.js through mqttTransport().
 */

/**
 * Told of every message. A listener that returns a promise holds the broker's acknowledgement (the QoS 1
 * PUBACK) until it settles: a message it stores is acknowledged only once stored, so a crash in between
 * makes the broker send it again instead of losing it.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most listeners return nothing; only storing ones a promise
export type MessageListener = (topic: string, payload: Buffer) => void | Promise<unknown>;

export interface MessageTransport {
  /** Subscribes at QoS 1; retained messages of the topics arrive through onMessage. */
  subscribe(topics: string[]): Promise<void>;
  unsubscribe(topics: string[]): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  onMessage(listener: MessageListener): () => void;
}

export interface PublishOptions {
  retain: boolean;
  /** JSON payloads get MQTT 5 content-type properties when the link speaks MQTT 5. */
  json?: boolean;
}

export interface PublishTransport {
  /** Publishes at QoS 1 and resolves on the broker's acknowledgement, or rejects after a timeout. */
  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void>;
}

export type Transport = MessageTransport & PublishTransport;

/** Timers as a dependency, so logic with timeouts can be driven by tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

/** Lets the process exit while this timer waits (a Node timer); a test's fake timer has nothing to do. */
export function unrefTimer(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Rejects with code TIMEOUT when `promise` has not settled after `ms`. Every awaited MQTT operation goes
 * through this: a publish the broker drops for size is never acknowledged and would hang forever.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BookrecError('TIMEOUT', `${what}: no answer from the broker after ${ms} ms`)),
      ms,
    );
  });
  // The losing promise may still reject later; it is handled here so it never goes unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface MqttTransportOptions {
  /** Timeout of each publish, subscribe and unsubscribe. */
  timeoutMs: number;
  /**
   * Longest a message's acknowledgement waits for the work its listeners returned (default 10 s): mqtt.js
   * takes one message at a time, so a stuck disk must not stall the connection.
   */
  ackWaitMs?: number;
}

const ACK_WAIT_MS = 10_000;

/** Per client: the work listeners still do on each message (keyed by the payload mqtt.js hands out). */
const pendingWork = new WeakMap<MqttClient, WeakMap<Buffer, Promise<unknown>[]>>();

/**
 * Makes mqtt.js send a message's PUBACK only after the work its listeners returned. mqtt.js emits
 * 'message' and then calls handleMessage, whose callback sends the PUBACK; installed once per client.
 */
function ackAfterWork(client: MqttClient, waitMs: number): WeakMap<Buffer, Promise<unknown>[]> {
  const known = pendingWork.get(client);
  if (known) return known;
  const work = new WeakMap<Buffer, Promise<unknown>[]>();
  pendingWork.set(client, work);
  client.handleMessage = (packet, callback) => {
    const payload = packet.payload as Buffer;
    const jobs = work.get(payload);
    if (!jobs) {
      callback();
      return;
    }
    work.delete(payload);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    void Promise.race([Promise.allSettled(jobs), limit]).then(() => {
      clearTimeout(timer);
      callback();
    });
  };
  return work;
}

/** mqtt.js behind the Transport interfaces. */
export function mqttTransport(client: MqttClient, options: MqttTransportOptions): Transport {
  const v5 = client.options.protocolVersion === 5;
  // The receiver's window sends small SUBSCRIBE/UNSUBSCRIBE packets back to back; with Nagle's algorithm
  // the second waits for the broker's delayed ACK (~40 ms), which made every window cost 40+ ms. Set
  // before each operation rather than from a 'connect' listener: a reconnect brings a new socket, and
  // listeners would pile up with every adapter made on the same client (Node skips a repeated set).
  const noDelay = () =>
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  return {
    async subscribe(topics) {
      if (topics.length === 0) return;
      noDelay();
      const granted = await withTimeout(
        client.subscribeAsync(topics, { qos: 1 }),
        options.timeoutMs,
        `subscribe ${topics[0]}${topics.length > 1 ? ` (+${topics.length - 1})` : ''}`,
      );
      // A broker's ACL refuses a subscription with return code 0x80 (3.1.1) or >= 0x80 (5) in the SUBACK.
      const denied = granted.filter((g) => g.qos >= 0x80);
      if (denied.length > 0) {
        throw new BookrecError(
          'SUBSCRIBE_DENIED',
          `broker refused subscription to ${denied.map((g) => g.topic).join(', ')}`,
        );
      }
    },
    async unsubscribe(topics) {
      if (topics.length === 0) return;
      noDelay();
      await withTimeout(client.unsubscribeAsync(topics), options.timeoutMs, `unsubscribe ${topics[0]}`);
    },
    onMessage(listener) {
      const work = ackAfterWork(client, options.ackWaitMs ?? ACK_WAIT_MS);
      const handler = (topic: string, payload: Buffer) => {
        const job = listener(topic, payload);
        if (!(job instanceof Promise)) return;
        const jobs = work.get(payload) ?? [];
        jobs.push(job);
        work.set(payload, jobs);
      };
      client.on('message', handler);
      return () => {
        client.off('message', handler);
      };
    },
    async publish(topic, payload, publishOptions) {
      noDelay();
      const opts: IClientPublishOptions = { qos: 1, retain: publishOptions.retain };
      // MQTT 5 only as an extra: 3.1.1 brokers (aedes) never see properties.
      if (v5 && publishOptions.json) {
        opts.properties = { payloadFormatIndicator: true, contentType: 'application/json' };
      }
      await withTimeout(client.publishAsync(topic, payload, opts), options.timeoutMs, `publish ${topic}`);
    },
  };
}
