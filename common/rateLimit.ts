/**
 * At most `perWindow` of something (log lines, events) per `windowMs`; the rest are held back and
 * counted, and the count goes out with the next one allowed, so a flood shows as one line saying how
 * many were not shown. Junk on a topic must not turn into a journal or an outbox full of the same words.
 */
export class RateLimit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private held = 0;
  /** Everything held back since the start. */
  suppressed = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * One more, now: undefined when it must be held back, else how many were held back since the last one
   * allowed (to report with it).
   */
  take(): number | undefined {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.held++;
      this.suppressed++;
      return undefined;
    }
    this.used++;
    const held = this.held;
    this.held = 0;
    return held;
  }
}
