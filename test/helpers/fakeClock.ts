import type { Timers } from '../../common/protocol/transport.js';

/**
 * A clock that moves only when a test says so, behind the code's `Timers` seam: debounce, watchdog,
 * flush and retry logic is driven to the millisecond with no real waiting, so it cannot be late on a
 * busy machine and an absence ("no press", "no second publish") is shown by time that really passed.
 */
export class FakeClock implements Timers {
  private nowMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.pending.set(id, { at: this.nowMs + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  now(): number {
    return this.nowMs;
  }

  /** Timers not yet fired. */
  get timers(): number {
    return this.pending.size;
  }

  /**
   * Moves the clock by `ms`, firing each timer due on the way at its own time, in time order (ties in the
   * order they were set); a timer set by a firing one fires too when it falls due within the step.
   */
  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.pending.delete(due[0]);
      this.nowMs = due[1].at;
      due[1].fn();
    }
    this.nowMs = end;
  }

  /** `advance`, then one turn of the event loop, so promise callbacks the timers started have run. */
  async advanceAsync(ms: number): Promise<void> {
    this.advance(ms);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
