import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { statusContract } from '../../common/protocol/status.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { buildRelease, testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * 500 junk manifests on the channel topic (not JSON, not a manifest, a forged signature, an unknown
 * key), as anyone who can write the topic could send them: the agent refuses every one, logs and reports
 * a few (rate-limited, with the count of the rest), drops nothing from its outbox, and its retained
 * status still says what it installed. Before: 530 log lines, 303 "outbox full" warnings, 300 events
 * dropped, and every junk manifest overwrote the retained lastUpdate.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test('a flood of junk manifests: few lines, no drops, the retained status untouched', async (t) => {
  const dir = await serviceDir(t);
  const broker = await agentBroker(t);
  const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
  const ops = await listener(t, broker.url, 'deploy', [topic('status'), topic('events')]);
  const agent = await startAgent(t, join(dir, 'state'), broker.url, signer, ['--output', 'publish']);
  const v1 = await makePackage(join(dir, 'v1'), { n: 40, seed: 1 });
  await publishPackage(t, broker.url, signer, v1.dir, 1);
  // The install report follows the switch: wait for the report, not only the model.
  const installed = await waitFor('v1 installed and reported', () => {
    const u = agent.service.status.lastUpdate;
    return u?.version === 1 && u.result === 'installed' ? u : undefined;
  });
  t.equal(agent.service.store.current?.release.version, 1);
  // ...and for that report on the broker: the check after the flood reads the retained status, which
  // on a busy machine could still be the one from before the install (lastUpdate null, seen once).
  await waitFor('the install reported on the broker', () =>
    ops.json(topic('status')).find((s) => (s.lastUpdate as { version?: number } | null)?.version === 1),
  );

  const stranger = testKey();
  const real = buildRelease(signer.key, new TopicMap(), { version: 9, serial: 9 }).manifest;
  const junk = (i: number): string => {
    switch (i % 4) {
      case 0:
        return `{"not json ${i}`;
      case 1:
        return JSON.stringify({ junk: i });
      case 2:
        return JSON.stringify({ ...real, version: 100 + i });
      default:
        return JSON.stringify(buildRelease(stranger.key, new TopicMap(), { version: 100 + i }).manifest);
    }
  };
  const N = 500;
  const manifestTopic = 'bookrec/fleet/stable/manifest';
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      ops.client.publishAsync(manifestTopic, junk(i), { qos: 1, retain: true }),
    ),
  );
  await waitFor('every junk manifest refused', () => agent.service.status.refusals >= N);
  t.equal(agent.service.status.refusals, N, 'each one refused');
  t.match(agent.service.status.lastRefusal, { code: /^MANIFEST_/ });
  t.same(agent.service.status.lastUpdate, installed, 'lastUpdate still says version 1 installed');

  const lines = agent.log.lines.filter((l) => /refused/.test(String(l.msg)));
  t.ok(lines.length <= 5, `${lines.length} refusal log lines for ${N} refusals`);
  t.equal(
    agent.log.lines.filter((l) => l.msg === 'outbox full: oldest message dropped').length,
    0,
    'no outbox warnings',
  );
  t.equal(agent.service.outbox.dropped, 0, 'nothing dropped from the outbox');
  await waitFor('the outbox empty', () => agent.service.outbox.size === 0);
  const events = ops.json(topic('events')).filter((e) => e.phase === 'rejected');
  t.ok(events.length >= 1 && events.length <= 5, `${events.length} rejected events for ${N} refusals`);
  t.notOk(
    events.some((e) => 'version' in e),
    'an unverified refusal names no version: nothing in it can be believed',
  );

  // The retained status the fleet view reads: still version 1 installed.
  const fresh = await listener(t, broker.url, 'deploy', [topic('status')]);
  const status = await waitFor('the retained status', () => fresh.json(topic('status')).at(-1));
  t.ok(statusContract.is(status), 'a valid status');
  t.match(status, { lastUpdate: { version: 1, result: 'installed' } });

  // And the next real release installs: the flood broke nothing.
  await ops.client.publishAsync(manifestTopic, '', { qos: 1, retain: true });
  const v2 = await makePackage(join(dir, 'v2'), { n: 40, seed: 2 });
  await publishPackage(t, broker.url, signer, v2.dir, 2);
  await waitFor('v2 installed', () => agent.service.store.current?.release.version === 2);
});
