import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { MessageTransport } from '../../common/protocol/transport.js';
import type { SignalIntake } from './intake.js';

/**
 * Signals on the device's own MQTT topic (devices/<id>/signals): one event per message, the same JSON as
 * a JSONL line. Oversized payloads are counted as malformed without being parsed.
 */
export interface MqttSignalsContext {
  transport: MessageTransport;
  topic: string;
  intake: SignalIntake;
  maxBytes: number;
  log: Logger;
}

export class MqttSignals {
  private readonly ctx: MqttSignalsContext;
  private remove: (() => void) | undefined;

  constructor(ctx: MqttSignalsContext) {
    this.ctx = ctx;
  }

  async start(): Promise<void> {
    this.remove = this.ctx.transport.onMessage((topic, payload) => {
      if (topic !== this.ctx.topic) return;
      const text = payload.length > this.ctx.maxBytes ? '' : payload.toString('utf8');
      this.ctx.intake
        .text('mqtt', text)
        .catch((err: unknown) => this.ctx.log.error('storing a signal failed', { error: errorMessage(err) }));
    });
    await this.ctx.transport.subscribe([this.ctx.topic]);
  }

  async stop(): Promise<void> {
    this.remove?.();
    this.remove = undefined;
  }
}
