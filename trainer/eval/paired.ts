import { BookrecError } from '../../common/errors.js';
import { mulberry32 } from '../random.js';

/**
 * Paired comparison of two models on the same users: the mean of the per-user differences a - b and a
 * percentile bootstrap 95% interval of that mean (users resampled with replacement, seeded, so the
 * interval is reproducible). Pairing removes the user-to-user spread that both models share, which is
 * most of it: two models whose means differ by 0.001 can still be told apart when they disagree on few
 * users.
 */
export interface PairedDifference {
  diff: number;
  ci95: [number, number];
  users: number;
  resamples: number;
}

export function pairedBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { resamples?: number; seed?: number } = {},
): PairedDifference {
  if (a.length !== b.length) {
    throw new BookrecError('BAD_ARGUMENT', `paired samples differ in length: ${a.length} vs ${b.length}`);
  }
  const n = a.length;
  if (n === 0) throw new BookrecError('BAD_ARGUMENT', 'paired bootstrap needs at least one user');
  const resamples = options.resamples ?? 2000;
  const d = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i] - b[i];
    sum += d[i];
  }
  const rng = mulberry32(options.seed ?? 1);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rng() * n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { diff: sum / n, ci95: [at(0.025), at(0.975)], users: n, resamples };
}
