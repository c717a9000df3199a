import type { EvaluationCard } from '../../common/model/evaluationCard.js';
import { CARD_FORMAT } from '../../common/model/evaluationCard.js';
import type { HeldOutUser } from '../split.js';

/** History slices of the card: how many books the listener had read before (fold-in), as labelled. */
export const HISTORY_SLICES: readonly { label: string; min: number; max: number }[] = [
  { label: '1-4', min: 1, max: 4 },
  { label: '5-19', min: 5, max: 19 },
  { label: '20+', min: 20, max: Number.POSITIVE_INFINITY },
];

export interface CardInput {
  dataset: string;
  /** The test users, in evaluation order. */
  test: readonly HeldOutUser[];
  /** The shipped student's NDCG@10 per test user with targets, in the same order (evaluateScorer). */
  perUserNdcg10: readonly number[];
  ndcg10: number;
  teacherNdcg10: number;
  modelBytes: number;
  trainedAt: Date;
}

/**
 * The package's evaluation card from the training run's own test figures, with NDCG@10 per history
 * slice: the mean over the test users whose fold-in history falls in it (a slice with no user is left
 * out). evaluateScorer records per-user NDCG only for users with targets, in test order.
 */
export function trainingCard(input: CardInput): EvaluationCard {
  const scored = input.test.filter((u) => u.targets.length > 0);
  const slices: Record<string, number> = {};
  if (scored.length === input.perUserNdcg10.length) {
    for (const { label, min, max } of HISTORY_SLICES) {
      const values = scored
        .map((u, i) => [u.foldIn.length, input.perUserNdcg10[i]] as const)
        .filter(([n]) => n >= min && n <= max)
        .map(([, v]) => v);
      if (values.length > 0) slices[label] = round(values.reduce((a, b) => a + b, 0) / values.length);
    }
  }
  return {
    format: CARD_FORMAT,
    trainedAt: input.trainedAt.toISOString(),
    dataset: input.dataset.slice(0, 64),
    ndcg10: round(input.ndcg10),
    ...(Object.keys(slices).length > 0 ? { slices } : {}),
    ...(Number.isFinite(input.teacherNdcg10) ? { teacherNdcg10: round(input.teacherNdcg10) } : {}),
    modelBytes: input.modelBytes,
  };
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
