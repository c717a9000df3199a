import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { PublishOptions } from '../common/protocol/transport.js';
import { RateLimit } from '../common/rateLimit.js';

/**
 * Every message the agent sends goes through here. Online, it is published at once (with the
 * transport's timeout); offline, or when a publish fails, it waits in a bounded queue and goes out on
 * the next connect, oldest first. When the queue is full the oldest message is dropped and the drop is
 * logged with its topic: never an unbounded pile-up after a long outage (mqtt.js's own offline queue
 * is unbounded, so nothing is handed to it while disconnected). A message with a `key` replaces a queued
 * one with the same key: only the latest retained status matters.
 */
export interface OutMessage {
  topic: string;
  payload: string;
  options: PublishOptions;
  /** Messages with the same key coalesce while queued. */
  key?: string;
}

export interface OutboxContext {
  publish: (topic: string, payload: string, options: PublishOptions) => Promise<void>;
  online: () => boolean;
  maxMessages: number;
  log: Logger;
}

export class Outbox {
  private readonly ctx: OutboxContext;
  private queue: OutMessage[] = [];
  private flushing: Promise<void> | undefined;
  /** Drop warnings: a few a minute, each with the count of drops not logged since the last. */
  private readonly dropLog = new RateLimit(3, 60_000);
  dropped = 0;
  sent = 0;

  constructor(ctx: OutboxContext) {
    this.ctx = ctx;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Queues a message and tries to send; resolves when it is sent or queued, never rejects. */
  send(message: OutMessage): Promise<void> {
    this.enqueue(message);
    return this.flush();
  }

  /** Sends what is queued, in order, while online; a failure leaves the rest for the next call. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private enqueue(message: OutMessage): void {
    if (message.key !== undefined) {
      const i = this.queue.findIndex((m) => m.key === message.key);
      if (i >= 0) {
        this.queue[i] = message;
        return;
      }
    }
    this.queue.push(message);
    while (this.queue.length > this.ctx.maxMessages) {
      const lost = this.queue.shift()!;
      this.dropped++;
      const held = this.dropLog.take();
      if (held !== undefined) {
        this.ctx.log.warn('outbox full: oldest message dropped', {
          topic: lost.topic,
          queued: this.queue.length,
          droppedTotal: this.dropped,
          notLogged: held,
        });
      }
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.ctx.online()) {
      const message = this.queue[0];
      try {
        await this.ctx.publish(message.topic, message.payload, message.options);
      } catch (err) {
        this.ctx.log.warn('publish failed: kept for the next connection', {
          topic: message.topic,
          error: errorMessage(err),
        });
        return;
      }
      // A newer message with the same key may have replaced it meanwhile: remove only this one.
      const i = this.queue.indexOf(message);
      if (i >= 0) this.queue.splice(i, 1);
      this.sent++;
    }
  }
}
