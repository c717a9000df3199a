import type { Logger } from '../../common/log.js';

/** Time and memory of one phase of a run. */
export interface PhaseFigures {
  seconds: number;
  /** Resident memory when the phase ended. */
  rssMb: number;
  /** The process's peak resident memory so far (the kernel's maxrss): the phase's peak at the latest. */
  peakRssMb: number;
}

/** Times the phases of a run and records the memory after each (docs/results.md shows both). */
export class PhaseClock {
  private readonly started = performance.now();
  private readonly figures: Record<string, PhaseFigures> = {};

  constructor(private readonly log: Logger) {}

  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await work();
    const figures = {
      seconds: (performance.now() - t0) / 1000,
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1e3),
    };
    this.figures[name] = figures;
    this.log.info('phase done', { phase: name, ...figures });
    return out;
  }

  total(): number {
    return (performance.now() - this.started) / 1000;
  }

  seconds(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.figures).map(([k, v]) => [k, v.seconds]));
  }

  phases(): Record<string, PhaseFigures> {
    return { ...this.figures };
  }
}
