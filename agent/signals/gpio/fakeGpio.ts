import { realTimers, type Timers } from '../../../common/protocol/transport.js';
import type { EdgeListener, GpioLines } from './gpio.js';

/**
 * GPIO for tests and machines without pins: `press(offset)` produces the edges a real button would,
 * including the contact bounce a debouncer must swallow when `bounces` is given.
 */
export class FakeGpio implements GpioLines {
  readonly name = 'fake';
  private listener: EdgeListener | undefined;
  private offsets: readonly number[] = [];
  private readonly activeLow: boolean;
  private readonly timers: Timers;

  constructor(options: { activeLow?: boolean; timers?: Timers } = {}) {
    this.activeLow = options.activeLow ?? true;
    this.timers = options.timers ?? realTimers;
  }

  async start(offsets: readonly number[], onEdge: EdgeListener): Promise<void> {
    this.offsets = offsets;
    this.listener = onEdge;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  /** Emits a raw edge on a watched line. */
  edge(offset: number, level: 0 | 1, atMs = this.timers.now()): void {
    if (this.offsets.includes(offset)) this.listener?.(offset, level, atMs);
  }

  /** A press: `bounces` quick toggles, then the pressed level; release after `holdMs`. */
  press(offset: number, options: { bounces?: number; holdMs?: number } = {}): Promise<void> {
    const pressed: 0 | 1 = this.activeLow ? 0 : 1;
    const released: 0 | 1 = this.activeLow ? 1 : 0;
    for (let i = 0; i < (options.bounces ?? 0); i++) {
      this.edge(offset, pressed);
      this.edge(offset, released);
    }
    this.edge(offset, pressed);
    return new Promise((resolve) => {
      this.timers.setTimeout(() => {
        this.edge(offset, released);
        resolve();
      }, options.holdMs ?? 80);
    });
  }
}
