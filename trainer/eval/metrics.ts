/**
 * Ranking metrics of docs/evaluation.md for one user: `ranked` is the model's list (best first, fold-in
 * books already removed), `targets` the held-out books (ascending). Binary relevance throughout.
 */
export const METRIC_NAMES = [
  'recall@20',
  'ndcg@10',
  'ndcg@100',
  'hr@10',
  'precision@10',
  'f1@10',
  'mrr',
  'coverage@10',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Metrics = Record<MetricName, number>;

/** How deep a ranking the metrics need (NDCG@100, MRR@100). */
export const RANK_DEPTH = 100;

function hitsAt(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  let hits = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (targets.has(ranked[i])) hits++;
  return hits;
}

/** Recall@K normalised by min(K, |targets|), so a perfect ranking scores 1 (EVALUATION.md). */
export function recallAt(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  if (targets.size === 0) return Number.NaN;
  return hitsAt(ranked, targets, k) / Math.min(k, targets.size);
}

export function precisionAt(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  if (targets.size === 0) return Number.NaN;
  return hitsAt(ranked, targets, k) / k;
}

export function hitRateAt(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  if (targets.size === 0) return Number.NaN;
  return hitsAt(ranked, targets, k) > 0 ? 1 : 0;
}

export function ndcgAt(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  if (targets.size === 0) return Number.NaN;
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++)
    if (targets.has(ranked[i])) dcg += 1 / Math.log2(i + 2);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, targets.size); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

/** F1 of precision@K and recall@K (recall normalised as above). */
export function f1At(ranked: ArrayLike<number>, targets: Set<number>, k: number): number {
  const p = precisionAt(ranked, targets, k);
  const r = recallAt(ranked, targets, k);
  if (Number.isNaN(p)) return p;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

/** Reciprocal rank of the first hit within the ranking's depth (MRR@100), 0 when none. */
export function reciprocalRank(ranked: ArrayLike<number>, targets: Set<number>): number {
  if (targets.size === 0) return Number.NaN;
  for (let i = 0; i < ranked.length; i++) if (targets.has(ranked[i])) return 1 / (i + 1);
  return 0;
}

/** Accumulates per-user metrics into means, and the catalogue coverage of everyone's top-10. */
export class MetricsAccumulator {
  private readonly sums = new Map<MetricName, number>();
  private readonly seen: Uint8Array;
  users = 0;

  constructor(private readonly nItems: number) {
    this.seen = new Uint8Array(nItems);
  }

  add(ranked: ArrayLike<number>, targetList: ArrayLike<number>): void {
    if (targetList.length === 0) return; // no targets: the user says nothing about quality
    const targets = new Set<number>(Array.from(targetList));
    const values: Omit<Metrics, 'coverage@10'> = {
      'recall@20': recallAt(ranked, targets, 20),
      'ndcg@10': ndcgAt(ranked, targets, 10),
      'ndcg@100': ndcgAt(ranked, targets, 100),
      'hr@10': hitRateAt(ranked, targets, 10),
      'precision@10': precisionAt(ranked, targets, 10),
      'f1@10': f1At(ranked, targets, 10),
      mrr: reciprocalRank(ranked, targets),
    };
    for (const [name, v] of Object.entries(values) as [MetricName, number][]) {
      this.sums.set(name, (this.sums.get(name) ?? 0) + v);
    }
    for (let i = 0; i < Math.min(10, ranked.length); i++) this.seen[ranked[i]] = 1;
    this.users++;
  }

  result(): Metrics {
    const out = {} as Metrics;
    for (const name of METRIC_NAMES)
      out[name] = this.users === 0 ? 0 : (this.sums.get(name) ?? 0) / this.users;
    let covered = 0;
    for (let i = 0; i < this.nItems; i++) covered += this.seen[i];
    out['coverage@10'] = this.nItems === 0 ? 0 : covered / this.nItems;
    return out;
  }
}
