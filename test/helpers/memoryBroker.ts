import { topicMatches } from '../../common/protocol/topics.js';
import type { MessageListener, Transport } from '../../common/protocol/transport.js';

type Message = [topic: string, payload: Buffer];

/**
 * An in-memory MQTT broker for fast unit tests of protocol logic: retained messages, exact and
 * wildcard subscriptions, retained messages sent again on every subscribe (as MQTT brokers do), and
 * hooks that reorder, duplicate, drop or alter what is delivered. Delivery is asynchronous, like a network.
 */
export class MemoryBroker {
  readonly retained = new Map<string, Buffer>();
  private readonly clients = new Set<MemoryClient>();
  /** Rearranges the retained messages a subscribe sends (reorder, duplicate, drop). */
  arrange: (messages: Message[]) => Message[] = (m) => m;
  /** Alters or drops (undefined) one delivered message. */
  deliver: (topic: string, payload: Buffer) => Buffer | undefined = (_t, p) => p;
  subscribeCalls = 0;

  client(): MemoryClient {
    const c = new MemoryClient(this);
    this.clients.add(c);
    return c;
  }

  publish(topic: string, payload: Buffer | string, retain: boolean): void {
    const data = Buffer.from(payload);
    if (retain) {
      if (data.length === 0) this.retained.delete(topic);
      else this.retained.set(topic, data);
    }
    for (const c of this.clients) if (c.matches(topic)) c.receive([[topic, data]]);
  }

  retainedFor(filter: string): Message[] {
    return [...this.retained.entries()].filter(([topic]) => topicMatches(filter, topic));
  }

  deliverTo(client: MemoryClient, messages: Message[]): void {
    const out: Message[] = [];
    for (const [topic, payload] of messages) {
      const p = this.deliver(topic, payload);
      if (p) out.push([topic, p]);
    }
    setImmediate(() => client.emit(out));
  }
}

export class MemoryClient implements Transport {
  private readonly broker: MemoryBroker;
  readonly subscriptions = new Set<string>();
  private readonly listeners = new Set<MessageListener>();

  constructor(broker: MemoryBroker) {
    this.broker = broker;
  }

  matches(topic: string): boolean {
    for (const f of this.subscriptions) if (topicMatches(f, topic)) return true;
    return false;
  }

  receive(messages: Message[]): void {
    this.broker.deliverTo(this, messages);
  }

  emit(messages: Message[]): void {
    for (const [topic, payload] of messages) for (const l of this.listeners) l(topic, payload);
  }

  async subscribe(topics: string[]): Promise<void> {
    this.broker.subscribeCalls++;
    const retained: Message[] = [];
    for (const f of topics) {
      this.subscriptions.add(f);
      retained.push(...this.broker.retainedFor(f));
    }
    this.receive(this.broker.arrange(retained));
  }

  async unsubscribe(topics: string[]): Promise<void> {
    for (const f of topics) this.subscriptions.delete(f);
  }

  onMessage(listener: MessageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(topic: string, payload: Buffer | string, options: { retain: boolean }): Promise<void> {
    this.broker.publish(topic, payload, options.retain);
  }
}
