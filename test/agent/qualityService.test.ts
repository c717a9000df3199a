import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { parseCounters } from '../../common/protocol/counters.js';
import type { RecommendationMessage } from '../../common/protocol/recommendation.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { APP_USER, agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * The counters through the real service on mosquitto with the production ACL: a recommendation and a
 * like button press make the agent publish retained counters on devices/<id>/counters that deploy can
 * read, with no book id in them; after a restart the counts are still there.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test('answer + like -> retained counters deploy reads; they survive a restart', async (t) => {
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  const broker = await agentBroker(t);
  const pkg = await makePackage(join(dir, 'student'), { n: 60, seed: 5 });
  const topic = 'bookrec/devices/dev-a/counters';
  const ops = await listener(t, broker.url, 'deploy', [topic]);
  const app = await listener(t, broker.url, APP_USER, ['bookrec/devices/dev-a/recommendations']);
  const args = ['--tts', 'none', '--output', 'publish', '--quality-publish-seconds', '0.2'];
  const agent = await startAgent(t, stateDir, broker.url, signer, args);
  const manifest = await publishPackage(t, broker.url, signer, pkg.dir);
  await waitFor('installed', () => agent.service.store.current?.release.version === manifest.version, 20_000);

  await agent.gpio.press(17, { holdMs: 30 });
  const rec = (await waitFor('a recommendation', () =>
    app.json('bookrec/devices/dev-a/recommendations').at(0),
  )) as unknown as RecommendationMessage;
  await agent.gpio.press(27, { holdMs: 30 });
  const last = await waitFor('counters with the like', () =>
    ops.messages.filter((m) => m.topic === topic && m.payload.toString().includes('"liked":1')).at(-1),
  );
  const parsed = parseCounters(last.payload);
  t.ok(parsed.ok, 'the strict parser accepts what the agent publishes');
  if (parsed.ok) {
    t.same(parsed.counters.versions, [
      {
        channel: 'stable',
        version: manifest.version,
        recommendations: 1,
        accepted: 1,
        liked: 1,
        started: 0,
        finished: 0,
        skipped: 0,
        open: 1,
      },
    ]);
  }
  const text = last.payload.toString();
  // Fixture book ids are 1000 and up: no count in this payload can be mistaken for one.
  for (const b of rec.books) t.notOk(text.includes(String(b.id)), `book ${b.id} is not in the payload`);
  t.notMatch(text, /book/i);

  await agent.service.stop();
  const again = await startAgent(t, stateDir, broker.url, signer, args);
  t.match(again.service.quality.snapshot().versions, [{ recommendations: 1, accepted: 1, liked: 1 }]);
  await again.service.stop();
});
