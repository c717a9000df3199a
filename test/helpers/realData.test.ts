import t from 'tap';
import { realDataDir, realDataPath } from './realData.js';

/** Records what realDataDir asked of the test instead of failing or skipping this one. */
function recorder() {
  const calls: string[] = [];
  return {
    calls,
    skip: (m: string, _cb: () => void) => calls.push(`skip: ${m}`),
    fail: (m: string) => calls.push(`fail: ${m}`),
  };
}

t.test(
  'BOOKREC_DATA_DIR wins; the default is ../shared/datasets/goodbooks-10k beside the repo',
  async (t) => {
    t.equal(realDataPath({ BOOKREC_DATA_DIR: '/x' }), '/x');
    t.match(realDataPath({}), /shared\/datasets\/goodbooks-10k$/);
  },
);

t.test('a missing folder fails in CI and skips with the reason elsewhere', async (t) => {
  const missing = t.testdir({});
  const ci = recorder();
  t.equal(realDataDir(ci, { BOOKREC_DATA_DIR: missing, CI: 'true' }), undefined);
  t.match(ci.calls, [/^fail: real goodbooks-10k data not found at .*; CI requires it$/]);
  const dev = recorder();
  t.equal(realDataDir(dev, { BOOKREC_DATA_DIR: missing }), undefined);
  t.match(dev.calls, [/^skip: real goodbooks-10k data not found at .*BOOKREC_DATA_DIR/]);
});

t.test('a folder with ratings.csv is returned', async (t) => {
  const dir = t.testdir({ 'ratings.csv': 'user,item\n1,2\n' });
  const r = recorder();
  t.equal(realDataDir(r, { BOOKREC_DATA_DIR: dir, CI: 'true' }), dir);
  t.same(r.calls, []);
});
