import { BookrecError } from '../errors.js';

/**
 * The evaluation card: the figures a model package carries about itself from training (test NDCG@10,
 * per history slice when the trainer has them, the teacher's for comparison, the student's size, when
 * it was trained). A small JSON file, `card.json`, listed in bookrec-package.json like every other file,
 * so its size and sha256 are checked with the rest and the release manifest's signature covers it.
 * Optional: a package without one is as valid as before. publish copies the figures into the signed
 * release manifest's `metrics` (cardMetrics), where `bookrec fleet` reads them (cardFromMetrics): one
 * format, written here, read here.
 */
export const CARD_FILE = 'card.json';
export const CARD_FORMAT = 1;
const MAX_SLICES = 8;
const SLICE = /^[A-Za-z0-9_<>=+-]{1,24}$/;

export interface EvaluationCard {
  format: typeof CARD_FORMAT;
  /** ISO 8601: when training finished. */
  trainedAt: string;
  dataset: string;
  /** The shipped student's NDCG@10 on the test users. */
  ndcg10: number;
  /** NDCG@10 per history slice (e.g. "1-4", "5-19", "20+" books), when the trainer measured them. */
  slices?: Record<string, number>;
  /** The teacher's NDCG@10 on the same users. */
  teacherNdcg10?: number;
  /** The student's model bytes (model.json + weights.bin). */
  modelBytes: number;
}

function invalid(file: string, message: string): BookrecError {
  return new BookrecError('PACKAGE_INVALID', `${file}: ${message}`);
}

function fraction(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
}

/** Checks a parsed card; every problem names the field. */
export function validateCard(value: unknown, file: string): EvaluationCard {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(file, 'not a JSON object');
  const c = value as Record<string, unknown>;
  const known = ['format', 'trainedAt', 'dataset', 'ndcg10', 'slices', 'teacherNdcg10', 'modelBytes'];
  const extra = Object.keys(c).filter((k) => !known.includes(k));
  if (extra.length > 0) throw invalid(file, `unknown field ${extra[0]} (known: ${known.join(', ')})`);
  if (c.format !== CARD_FORMAT) throw invalid(file, `format must be ${CARD_FORMAT}`);
  if (typeof c.trainedAt !== 'string' || Number.isNaN(Date.parse(c.trainedAt)))
    throw invalid(file, 'trainedAt must be an ISO 8601 date');
  if (typeof c.dataset !== 'string' || c.dataset.length === 0 || c.dataset.length > 64)
    throw invalid(file, 'dataset must be 1-64 characters');
  if (!fraction(c.ndcg10)) throw invalid(file, 'ndcg10 must be a number from 0 to 1');
  if (c.teacherNdcg10 !== undefined && !fraction(c.teacherNdcg10))
    throw invalid(file, 'teacherNdcg10 must be a number from 0 to 1');
  if (typeof c.modelBytes !== 'number' || !Number.isSafeInteger(c.modelBytes) || c.modelBytes < 0)
    throw invalid(file, 'modelBytes must be a whole number of bytes');
  if (c.slices !== undefined) {
    const s = c.slices;
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw invalid(file, 'slices must be an object');
    const entries = Object.entries(s);
    if (entries.length > MAX_SLICES) throw invalid(file, `slices: at most ${MAX_SLICES}`);
    for (const [k, v] of entries) {
      if (!SLICE.test(k))
        throw invalid(file, `slices: "${k}" is not a slice label (1-24 of A-Z a-z 0-9 _ < > = + -)`);
      if (!fraction(v)) throw invalid(file, `slices.${k} must be a number from 0 to 1`);
    }
  }
  return c as unknown as EvaluationCard;
}

const PREFIX = 'card.';

/** The card as release-manifest metrics (numbers only): what publish signs and `bookrec fleet` shows. */
export function cardMetrics(card: EvaluationCard): Record<string, number> {
  const out: Record<string, number> = {
    [`${PREFIX}ndcg10`]: card.ndcg10,
    [`${PREFIX}modelBytes`]: card.modelBytes,
    [`${PREFIX}trainedAt`]: Math.floor(Date.parse(card.trainedAt) / 1000),
  };
  if (card.teacherNdcg10 !== undefined) out[`${PREFIX}teacherNdcg10`] = card.teacherNdcg10;
  for (const [k, v] of Object.entries(card.slices ?? {})) out[`${PREFIX}slice.${k}`] = v;
  return out;
}

/** What a card's metrics say, from a release manifest; undefined when the release has no card. */
export function cardFromMetrics(
  metrics: Record<string, number>,
): Omit<EvaluationCard, 'format' | 'dataset'> | undefined {
  const get = (k: string) => metrics[`${PREFIX}${k}`];
  const ndcg10 = get('ndcg10');
  const bytes = get('modelBytes');
  const at = get('trainedAt');
  if (!fraction(ndcg10) || typeof bytes !== 'number' || typeof at !== 'number') return undefined;
  const slices = Object.fromEntries(
    Object.entries(metrics)
      .filter(([k]) => k.startsWith(`${PREFIX}slice.`))
      .map(([k, v]) => [k.slice(`${PREFIX}slice.`.length), v]),
  );
  const teacher = get('teacherNdcg10');
  return {
    trainedAt: new Date(at * 1000).toISOString(),
    ndcg10,
    modelBytes: bytes,
    ...(fraction(teacher) ? { teacherNdcg10: teacher } : {}),
    ...(Object.keys(slices).length > 0 ? { slices } : {}),
  };
}

/** One line for people: "NDCG@10 0.251 (teacher 0.262; 1-4: 0.18, 20+: 0.31), 812 kB, trained 2026-01-01". */
export function cardSummary(card: Omit<EvaluationCard, 'format' | 'dataset'>): string {
  const extra = [
    ...(card.teacherNdcg10 !== undefined ? [`teacher ${card.teacherNdcg10.toFixed(3)}`] : []),
    ...Object.entries(card.slices ?? {}).map(([k, v]) => `${k}: ${v.toFixed(3)}`),
  ];
  const kb = Math.round(card.modelBytes / 1000);
  return `NDCG@10 ${card.ndcg10.toFixed(3)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}, ${kb} kB, trained ${card.trainedAt.slice(0, 10)}`;
}
