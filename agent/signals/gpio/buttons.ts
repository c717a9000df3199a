import { realTimers, type Timers } from '../../../common/protocol/transport.js';
import type { GpioLines } from './gpio.js';

export type ButtonAction = 'recommend' | 'like' | 'skip';

export interface ButtonsContext {
  gpio: GpioLines;
  /** Line offset -> what the button does. */
  pins: ReadonlyMap<number, ButtonAction>;
  activeLow: boolean;
  /** A level must hold this long before it counts (contact bounce lasts a few ms). */
  debounceMs: number;
  onPress: (action: ButtonAction) => void;
  /** The clock of the debounce timers (tests drive a fake one). */
  timers?: Timers;
}

/**
 * Turns raw edges into presses. Debounce by settling: every edge restarts the line's timer, and only a
 * level that held for debounceMs is taken; a press is a settled change to the pressed level. So a
 * bouncing contact gives one press, and a glitch shorter than debounceMs gives none.
 */
export class Buttons {
  private readonly ctx: ButtonsContext;
  private readonly lines = new Map<number, { raw: 0 | 1; stable: 0 | 1; timer: unknown }>();
  private readonly timers: Timers;

  constructor(ctx: ButtonsContext) {
    this.ctx = ctx;
    this.timers = ctx.timers ?? realTimers;
  }

  async start(): Promise<void> {
    const idle: 0 | 1 = this.ctx.activeLow ? 1 : 0;
    for (const offset of this.ctx.pins.keys())
      this.lines.set(offset, { raw: idle, stable: idle, timer: undefined });
    await this.ctx.gpio.start([...this.ctx.pins.keys()], (offset, level) => this.edge(offset, level));
  }

  async stop(): Promise<void> {
    for (const line of this.lines.values()) this.timers.clearTimeout(line.timer);
    await this.ctx.gpio.stop();
  }

  private edge(offset: number, level: 0 | 1): void {
    const line = this.lines.get(offset);
    if (!line) return;
    line.raw = level;
    this.timers.clearTimeout(line.timer);
    line.timer = this.timers.setTimeout(() => this.settle(offset), this.ctx.debounceMs);
  }

  private settle(offset: number): void {
    const line = this.lines.get(offset)!;
    line.timer = undefined;
    if (line.raw === line.stable) return;
    line.stable = line.raw;
    const pressed = this.ctx.activeLow ? 0 : 1;
    if (line.stable === pressed) this.ctx.onPress(this.ctx.pins.get(offset)!);
  }
}
