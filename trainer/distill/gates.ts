import { BookrecError } from '../../common/errors.js';
import { MIN_TOP10_AGREEMENT } from './exportStudent.js';

/**
 * The shipped student's own checks (issue 11, docs/distillation.md). A package that fails any of them
 * is not left behind: `bookrec train` removes it and exits non-zero, naming each failed check.
 */
export const MIN_TEACHER_SHARE = 0.95;

export interface GateCheck {
  name: 'reload-agreement' | 'size-budget' | 'teacher-share';
  ok: boolean;
  /** What was measured and what was required, in words. */
  measured: string;
  required: string;
}

export function shippedChecks(m: {
  top10Agreement: number;
  modelBytes: number;
  maxModelBytes: number;
  studentNdcg10: number;
  teacherNdcg10: number;
}): GateCheck[] {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const share = m.teacherNdcg10 > 0 ? m.studentNdcg10 / m.teacherNdcg10 : 1;
  return [
    {
      name: 'reload-agreement',
      ok: m.top10Agreement >= MIN_TOP10_AGREEMENT,
      measured: `reloaded top-10 equals the trained model's for ${pct(m.top10Agreement)} of test users`,
      required: `>= ${pct(MIN_TOP10_AGREEMENT)}`,
    },
    {
      name: 'size-budget',
      ok: m.modelBytes <= m.maxModelBytes,
      measured: `exported model ${m.modelBytes} bytes`,
      required: `<= ${m.maxModelBytes} bytes`,
    },
    {
      name: 'teacher-share',
      ok: share >= MIN_TEACHER_SHARE,
      measured: `NDCG@10 ${m.studentNdcg10.toFixed(4)} = ${pct(share)} of the teacher's ${m.teacherNdcg10.toFixed(4)}`,
      required: `>= ${pct(MIN_TEACHER_SHARE)}`,
    },
  ];
}

/** The error a run ends with when checks failed (null when all passed). */
export function rejection(checks: GateCheck[], packageDir: string): BookrecError | null {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return null;
  return new BookrecError(
    'TRAIN_REJECTED',
    `the shipped student failed ${failed.map((c) => `${c.name} (${c.measured}; required ${c.required})`).join('; ')}: no package was left in ${packageDir}`,
  );
}
