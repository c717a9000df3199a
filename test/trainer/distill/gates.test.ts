import t from 'tap';
import { rejection, shippedChecks } from '../../../trainer/distill/gates.js';

const good = {
  top10Agreement: 0.99,
  modelBytes: 600_000,
  maxModelBytes: 1_000_000,
  studentNdcg10: 0.27,
  teacherNdcg10: 0.275,
};

t.test('a student within every budget passes every check', async (t) => {
  const checks = shippedChecks(good);
  t.same(
    checks.map((c) => [c.name, c.ok]),
    [
      ['reload-agreement', true],
      ['size-budget', true],
      ['teacher-share', true],
    ],
  );
  t.equal(rejection(checks, 'out/package'), null);
});

t.test('each failed check is named with what was measured and required', async (t) => {
  const checks = shippedChecks({ ...good, top10Agreement: 0.894, modelBytes: 1_200_000, studentNdcg10: 0.2 });
  t.same(
    checks.filter((c) => !c.ok).map((c) => c.name),
    ['reload-agreement', 'size-budget', 'teacher-share'],
  );
  const err = rejection(checks, 'out/package');
  t.equal(err?.code, 'TRAIN_REJECTED');
  t.equal(
    err?.message,
    "the shipped student failed reload-agreement (reloaded top-10 equals the trained model's for 89.4% of test users; required >= 95.0%); " +
      'size-budget (exported model 1200000 bytes; required <= 1000000 bytes); ' +
      "teacher-share (NDCG@10 0.2000 = 72.7% of the teacher's 0.2750; required >= 95.0%): no package was left in out/package",
  );
});

t.test('the boundaries themselves pass', async (t) => {
  const checks = shippedChecks({
    ...good,
    top10Agreement: 0.95,
    modelBytes: 1_000_000,
    studentNdcg10: 0.475,
    teacherNdcg10: 0.5,
  });
  t.ok(checks.every((c) => c.ok));
});
