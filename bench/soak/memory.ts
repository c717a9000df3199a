import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The soak process's memory over time (every agent, the readers, the operator and the relay all live
 * in it) and the broker's. Before each sample a full garbage collection runs, so heapUsed is the live
 * heap and a leak shows as a rising line instead of hiding in the collector's sawtooth.
 *
 * The growth check: a least-squares line through the second half of the samples (the first half holds
 * start-up and the first models being loaded), and the growth it predicts over that half. Memory that
 * is bounded levels off, so that growth is small next to the level; a leak keeps it rising.
 */
export interface MemorySample {
  /** Seconds since the sampler started. */
  t: number;
  rssMiB: number;
  heapMiB: number;
  brokerMiB: number | undefined;
}

export interface SeriesSummary {
  first: number;
  last: number;
  max: number;
  /** MiB per minute over the second half. */
  slopePerMin: number;
  /** Growth the slope predicts over the second half, MiB. */
  halfGrowth: number;
  /** Mean over the second half, MiB. */
  halfMean: number;
  ok: boolean;
}

/** Growth over the second half allowed: this share of its mean level, plus a fixed allowance. */
export const GROWTH_SHARE = 0.1;
export const GROWTH_ALLOWANCE_MIB = { heap: 8, rss: 48 } as const;
/** Samples kept: a soak is bounded in time, this bounds it in memory too. */
const MAX_SAMPLES = 10_000;

const gc = exposeGc();

export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(private readonly brokerKiB: () => Promise<number | undefined>) {}

  start(everyMs: number): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sample();
  }

  async sample(): Promise<void> {
    gc?.();
    const m = process.memoryUsage();
    const broker = await this.brokerKiB().catch(() => undefined);
    if (this.samples.length >= MAX_SAMPLES) this.samples.splice(0, 1);
    this.samples.push({
      t: (Date.now() - this.started) / 1000,
      rssMiB: m.rss / 2 ** 20,
      heapMiB: m.heapUsed / 2 ** 20,
      brokerMiB: broker === undefined ? undefined : broker / 1024,
    });
  }

  summary(): { heap: SeriesSummary; rss: SeriesSummary; broker: SeriesSummary | undefined } {
    const pick = (f: (s: MemorySample) => number | undefined) =>
      this.samples.flatMap((s) => {
        const v = f(s);
        return v === undefined ? [] : [[s.t, v] as [number, number]];
      });
    const broker = pick((s) => s.brokerMiB);
    return {
      heap: summarise(
        pick((s) => s.heapMiB),
        GROWTH_ALLOWANCE_MIB.heap,
      ),
      rss: summarise(
        pick((s) => s.rssMiB),
        GROWTH_ALLOWANCE_MIB.rss,
      ),
      broker: broker.length > 0 ? summarise(broker, GROWTH_ALLOWANCE_MIB.rss) : undefined,
    };
  }
}

export function summarise(points: [number, number][], allowanceMiB: number): SeriesSummary {
  const values = points.map((p) => p[1]);
  const half = points.slice(Math.floor(points.length / 2));
  const n = half.length;
  const mt = half.reduce((a, p) => a + p[0], 0) / Math.max(1, n);
  const mv = half.reduce((a, p) => a + p[1], 0) / Math.max(1, n);
  let num = 0;
  let den = 0;
  for (const [t, v] of half) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  const slope = den > 0 ? num / den : 0; // MiB per second
  const span = n > 1 ? half[n - 1][0] - half[0][0] : 0;
  const halfGrowth = slope * span;
  return {
    first: values[0] ?? 0,
    last: values[values.length - 1] ?? 0,
    max: Math.max(0, ...values),
    slopePerMin: slope * 60,
    halfGrowth,
    halfMean: mv,
    // Fewer than 4 points in the half cannot show a trend either way: that is a failed check.
    ok: n >= 4 && halfGrowth <= GROWTH_SHARE * mv + allowanceMiB,
  };
}

/** global.gc without starting node with --expose-gc (the bench runs under plain `node`). */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
