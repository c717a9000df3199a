import t from 'tap';
import { assertName, TopicMap, topicMatches } from '../../../common/protocol/topics.js';

t.test('topics are built under the prefix and parsed back', async (t) => {
  const topics = new TopicMap('acme/bookrec');
  t.equal(topics.manifest('stable'), 'acme/bookrec/fleet/stable/manifest');
  t.equal(topics.releaseRecord('beta', 3), 'acme/bookrec/releases/beta/3/manifest');
  const chunk = topics.chunk({ channel: 'beta', version: 3, file: 1, chunk: 17 });
  t.equal(chunk, 'acme/bookrec/releases/beta/3/1/17');
  t.same(topics.parseChunk(chunk), { channel: 'beta', version: 3, file: 1, chunk: 17 });
  t.equal(topics.device('dev-a', 'status'), 'acme/bookrec/devices/dev-a/status');
  t.equal(topics.parseDevice('acme/bookrec/devices/dev-a/status', 'status'), 'dev-a');
  t.equal(topics.parseDevice('acme/bookrec/devices/dev-a/events', 'status'), undefined);
  t.equal(topics.parseDevice('acme/bookrec/devices/a/b/status', 'status'), undefined);
  t.equal(topics.allDevices('status'), 'acme/bookrec/devices/+/status');
  t.equal(topics.allManifests(), 'acme/bookrec/fleet/+/manifest');
  t.equal(topics.releaseRecords('beta'), 'acme/bookrec/releases/beta/+/manifest');
});

t.test('non-chunk topics do not parse as chunks', async (t) => {
  const topics = new TopicMap();
  for (const topic of [
    'bookrec/releases/beta/3/manifest',
    'bookrec/releases/beta/0/1/2',
    'bookrec/releases/beta/3/01/2',
    'bookrec/releases/beta/3/1/-2',
    'bookrec/releases/+/3/1/2',
    'other/releases/beta/3/1/2',
    'bookrec/releases/beta/3/1',
  ]) {
    t.equal(topics.parseChunk(topic), undefined, topic);
  }
});

t.test('names that would widen a topic or an ACL are refused', async (t) => {
  for (const bad of ['+', '#', 'a/b', '', '-x', 'x'.repeat(65), 'a b']) {
    t.throws(() => assertName('device id', bad), { code: 'INVALID_NAME' }, JSON.stringify(bad));
  }
  t.throws(() => new TopicMap('a/+'), { code: 'INVALID_NAME' });
  t.throws(() => new TopicMap().chunk({ channel: 'c', version: 0, file: 0, chunk: 0 }), {
    code: 'INVALID_NAME',
  });
  t.equal(assertName('channel', 'stable-2.x_1'), 'stable-2.x_1');
});

t.test('MQTT filter matching', async (t) => {
  t.ok(topicMatches('a/+/c', 'a/b/c'));
  t.notOk(topicMatches('a/+/c', 'a/b/d'));
  t.ok(topicMatches('a/#', 'a/b/c'));
  t.ok(topicMatches('a/#', 'a'));
  t.notOk(topicMatches('a/+', 'a/b/c'));
  t.notOk(topicMatches('a/b/c', 'a/b'));
  t.notOk(topicMatches('a/#/c', 'a/b/c'), '# only last');
});
