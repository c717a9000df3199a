import t from 'tap';
import { TopicMap } from '../../common/protocol/topics.js';
import { QualityView } from '../../deploy/fleetQuality.js';

const topics = new TopicMap();
const entry = (channel: string, version: number, recommendations: number, accepted: number, skipped = 0) => ({
  channel,
  version,
  recommendations,
  accepted,
  liked: accepted,
  started: 0,
  finished: 0,
  skipped,
  open: 0,
});
const payload = (deviceId: string, versions: unknown[]) =>
  Buffer.from(
    JSON.stringify({ format: 1, deviceId, windowSeconds: 60, versions, at: '2026-01-01T00:00:00Z' }),
  );

t.test('counters per version; arms split the channel into canary and rest', async (t) => {
  const view = new QualityView(3);
  t.equal(view.render(), 'no quality counters yet');
  t.ok(view.apply(topics, topics.device('a', 'counters'), payload('a', [entry('stable', 1, 100, 40, 5)])));
  t.ok(
    view.apply(
      topics,
      topics.device('b', 'counters'),
      payload('b', [entry('stable', 1, 50, 10), entry('stable', 2, 80, 40, 2), entry('beta', 2, 999, 999)]),
    ),
  );
  t.notOk(view.apply(topics, topics.device('c', 'counters'), payload('a', [])), 'naming another device');
  t.notOk(view.apply(topics, topics.device('c', 'counters'), Buffer.from('{"format":9}')), 'malformed');
  t.notOk(view.apply(topics, topics.device('c', 'status'), payload('c', [])), 'not a counters topic');
  t.equal(view.refused, 2);
  t.same(view.arms('stable', 2), {
    canary: { devices: 1, recommendations: 80, accepted: 40, skipped: 2 },
    rest: { devices: 2, recommendations: 150, accepted: 50, skipped: 5 },
  });
  t.same(view.arms('other', 1).canary, { devices: 0, recommendations: 0, accepted: 0, skipped: 0 });
  const text = view.render();
  t.match(text, /beta@2\s+1\s+999\s+999\s+0\s+100\.0%/);
  t.match(text, /stable@1\s+2\s+150\s+50\s+5\s+33\.3%/);
  t.match(text, /stable@2\s+1\s+80\s+40\s+2\s+50\.0%/);
  t.match(text, /2 counters refused: c: names device a; c: format must be 1, got 9/);
  t.ok(view.apply(topics, topics.device('a', 'counters'), Buffer.alloc(0)), 'a cleared topic removes it');
  view.apply(topics, topics.device('c', 'counters'), payload('c', []));
  view.apply(topics, topics.device('d', 'counters'), payload('d', []));
  t.notOk(view.apply(topics, topics.device('e', 'counters'), payload('e', [])), 'bounded');
  t.match(view.render(), /1 counters dropped/);
});
