import type { HeldOutUser } from '../split.js';
import { type Metrics, MetricsAccumulator, ndcgAt, RANK_DEPTH } from './metrics.js';
import type { Scorer } from './scorer.js';
import { topK } from './topK.js';

export interface ModelResult {
  name: string;
  params: number;
  bytes: number | null;
  metrics: Metrics;
  /** Batch-1 scoring plus ranking time of one user, over a sample of users. */
  latencyMs: { p50: number; p99: number };
  users: number;
  seconds: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Users timed one at a time for the latency figures. */
  latencySample?: number;
  onProgress?: (done: number, total: number) => void;
  now?: () => number;
  /** Filled with each user's NDCG@10, in the users' order (for paired comparisons of two models). */
  perUserNdcg10?: number[];
}

/** Full-ranking evaluation of one model on held-out users (fold-in removed, every book ranked). */
export async function evaluateScorer(
  scorer: Scorer,
  users: HeldOutUser[],
  nItems: number,
  options: EvaluateOptions = {},
): Promise<ModelResult> {
  const now = options.now ?? (() => performance.now());
  const batchSize = options.batchSize ?? 256;
  const started = now();
  const acc = new MetricsAccumulator(nItems);
  const buffer = new Float32Array(batchSize * nItems);
  for (let start = 0; start < users.length; start += batchSize) {
    const batch = users.slice(start, start + batchSize);
    const out = buffer.subarray(0, batch.length * nItems);
    await scorer.score(
      batch.map((u) => u.foldIn),
      out,
    );
    batch.forEach((u, b) => {
      const ranked = topK(out.subarray(b * nItems, (b + 1) * nItems), RANK_DEPTH, u.foldIn);
      acc.add(ranked, u.targets);
      if (options.perUserNdcg10 && u.targets.length > 0) {
        options.perUserNdcg10.push(ndcgAt(ranked, new Set(u.targets), 10));
      }
    });
    options.onProgress?.(Math.min(start + batchSize, users.length), users.length);
  }
  const seconds = (now() - started) / 1000;
  const latencyMs = await measureLatency(scorer, users, nItems, options.latencySample ?? 200, now);
  return {
    name: scorer.name,
    params: scorer.params,
    bytes: scorer.bytes,
    metrics: acc.result(),
    latencyMs,
    users: acc.users,
    seconds,
  };
}

/** Batch-1 latency (score + rank the top 10) over evenly spaced users, after a short warm-up. */
export async function measureLatency(
  scorer: Scorer,
  users: HeldOutUser[],
  nItems: number,
  sample: number,
  now: () => number = () => performance.now(),
): Promise<{ p50: number; p99: number }> {
  if (users.length === 0 || sample <= 0) return { p50: 0, p99: 0 };
  const out = new Float32Array(nItems);
  const step = Math.max(1, Math.floor(users.length / sample));
  const picked = users.filter((_, i) => i % step === 0).slice(0, sample);
  for (const u of picked.slice(0, 5)) await scorer.score([u.foldIn], out);
  const times: number[] = [];
  for (const u of picked) {
    const t0 = now();
    await scorer.score([u.foldIn], out);
    topK(out, 10, u.foldIn);
    times.push(now() - t0);
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}
