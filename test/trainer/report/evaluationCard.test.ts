import t from 'tap';
import { validateCard } from '../../../common/model/evaluationCard.js';
import { trainingCard } from '../../../trainer/report/evaluationCard.js';
import type { HeldOutUser } from '../../../trainer/split.js';

const user = (reads: number, targets: number): HeldOutUser => ({
  user: 0,
  foldIn: Int32Array.from({ length: reads }, (_, i) => i),
  targets: Int32Array.from({ length: targets }, (_, i) => 100 + i),
});

t.test('the card from the training run: NDCG@10 per history slice, a valid card', async (t) => {
  // per-user NDCG only for users with targets, in test order: the user without targets is skipped.
  const test = [user(2, 1), user(3, 0), user(10, 2), user(30, 1), user(4, 1)];
  const card = trainingCard({
    dataset: 'goodbooks-10k',
    test,
    perUserNdcg10: [0.1, 0.5, 0.9, 0.3],
    ndcg10: 0.45,
    teacherNdcg10: 0.5,
    modelBytes: 1234,
    trainedAt: new Date(Date.UTC(2026, 0, 2)),
  });
  t.same(card, {
    format: 1,
    trainedAt: '2026-01-02T00:00:00.000Z',
    dataset: 'goodbooks-10k',
    ndcg10: 0.45,
    slices: { '1-4': 0.2, '5-19': 0.5, '20+': 0.9 },
    teacherNdcg10: 0.5,
    modelBytes: 1234,
  });
  t.same(validateCard(card, 'card'), card);
  // Counts that do not line up: no slices rather than wrong ones.
  const misaligned = trainingCard({
    dataset: 'd',
    test,
    perUserNdcg10: [0.1],
    ndcg10: 0.1,
    teacherNdcg10: Number.NaN,
    modelBytes: 1,
    trainedAt: new Date(),
  });
  t.equal(misaligned.slices, undefined);
  t.equal(misaligned.teacherNdcg10, undefined, 'no teacher figure: none');
});
