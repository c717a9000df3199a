import t from 'tap';
import { inRollout, rolloutBucket } from '../../../common/protocol/rolloutBucket.js';
import { TopicMap } from '../../../common/protocol/topics.js';
import { decide } from '../../../common/protocol/versionRule.js';
import { buildRelease, testKey } from '../../helpers/release.js';

const ids = Array.from({ length: 10_000 }, (_, i) => `speaker-${i}`);

t.test('buckets are stable, in [0, 100) and spread evenly', async (t) => {
  t.equal(rolloutBucket('speaker-1', 's'), rolloutBucket('speaker-1', 's'), 'same input, same bucket');
  t.not(rolloutBucket('speaker-1', 's'), rolloutBucket('speaker-1', 't'), 'a new salt draws anew');
  const buckets = ids.map((id) => rolloutBucket(id, 'salt'));
  t.ok(buckets.every((b) => b >= 0 && b < 100));
  const tenths = new Array(10).fill(0);
  for (const b of buckets) tenths[Math.floor(b / 10)]++;
  // 1000 expected per tenth; +-15% is > 4 standard deviations.
  t.ok(
    tenths.every((n) => n > 850 && n < 1150),
    `even spread: ${tenths}`,
  );
  const in10 = ids.filter((id) => inRollout(id, { percent: 10, salt: 'salt' })).length;
  t.ok(in10 > 900 && in10 < 1100, `10% rollout holds ~1000 of 10000 (${in10})`);
});

t.test('widening keeps every device that was in', async (t) => {
  const at = (percent: number) => new Set(ids.filter((id) => inRollout(id, { percent, salt: 'x' })));
  const [p10, p50, p100] = [at(10), at(50), at(100)];
  t.ok(
    [...p10].every((id) => p50.has(id)),
    '10% inside 50%',
  );
  t.equal(p100.size, ids.length, '100% is everyone');
  t.equal(at(0).size, 0, '0% is no one');
});

t.test('version rule', async (t) => {
  const { key } = testKey();
  const topics = new TopicMap();
  const v = (version: number, serial: number, extra = {}) =>
    buildRelease(key, topics, { version, serial, ...extra }).manifest;
  const base = { deviceId: 'dev-a', agentVersion: '0.2.0' };
  const run = (m: ReturnType<typeof v>, installedVersion: number | null, lastSerial: number | null) =>
    decide({ ...base, manifest: m, state: { installedVersion, lastSerial } });

  t.same(run(v(1, 1), null, null), { action: 'fetch' }, 'a device without a model takes anything');
  t.same(run(v(3, 30), 2, 20), { action: 'fetch' }, 'an upgrade');
  t.match(run(v(2, 40), 3, 30), { action: 'reject', code: 'MANIFEST_DOWNGRADE' }, 'older version, no flag');
  t.same(run(v(2, 40, { rollback: true }), 3, 30), { action: 'fetch' }, 'a signed rollback may go down');
  t.match(
    run(v(2, 25, { rollback: true }), 3, 30),
    { action: 'reject', code: 'MANIFEST_REPLAY' },
    'old rollback',
  );
  t.match(run(v(4, 25), 3, 30), { action: 'reject', code: 'MANIFEST_REPLAY' }, 'an old serial is not newer');
  t.match(run(v(3, 30), 3, 30), { action: 'skip', code: 'ALREADY_INSTALLED' }, 'redelivered');
  t.match(run(v(4, 40, { percent: 0 }), 3, 30), { action: 'skip', code: 'NOT_IN_ROLLOUT' });
  t.match(run(v(4, 40, { minAgentVersion: '1.0.0' }), 3, 30), {
    action: 'reject',
    code: 'AGENT_TOO_OLD',
    reason: /agent 0.2.0 is older than the release's minimum 1.0.0/,
  });
});
