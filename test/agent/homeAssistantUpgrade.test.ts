import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { deviceDiscoveryTopic, legacyDiscoveryTopics } from '../../common/protocol/homeAssistant.js';
import { connectAs } from '../helpers/mosquitto.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, startAgent } from './harness.js';
import { waitFor } from './helpers.js';

/**
 * Issue 21 item 15d: an agent that announced per-entity configs (homeassistant.json without
 * `form: device`) moves to device-based discovery once: Home Assistant's migration message on each old
 * topic, the device config, an empty retained message on each old topic; after that, never again. On
 * a broker that no longer lets the device write the old topics (the shipped ACL) the refusal is logged
 * with the fix and nothing else is held up.
 */
t.before(() => useBackend('wasm'));

const legacy = legacyDiscoveryTopics('dev-a', 'homeassistant');
const configTopic = deviceDiscoveryTopic('dev-a', 'homeassistant');
const status = 'bookrec/devices/dev-a/status';

t.test('upgrade with the transition ACL line: migrated, then the old configs cleared, once', async (t) => {
  // The line docs/home-assistant.md says to keep while speakers upgrade.
  const broker = await agentBroker(t, [], ['pattern write homeassistant/+/%u/+/config']);
  const old = await connectAs(t, broker.url, 'dev-a');
  for (const topic of legacy) await old.publishAsync(topic, '{"old":true}', { qos: 1, retain: true });
  await old.endAsync();
  const stateDir = join(await serviceDir(t), 'state');
  const ha = await listener(t, broker.url, 'homeassistant', ['homeassistant/#']);
  await waitFor('the old configs', () => legacy.every((l) => ha.messages.some((m) => m.topic === l)));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDir, 'homeassistant.json'), JSON.stringify({ prefix: 'homeassistant' }));

  const from = ha.messages.length;
  const agent = await startAgent(t, stateDir, broker.url, undefined, ['--homeassistant']);
  const seen = () => ha.messages.slice(from).map((m) => [m.topic, m.payload.toString(), m.retain] as const);
  await waitFor('the old configs cleared', () =>
    legacy.every((l) => seen().some(([topic, payload]) => topic === l && payload === '')),
  );
  const got = seen();
  const device = got.findIndex(([topic]) => topic === configTopic);
  t.ok(device > 0, 'the device config was announced');
  t.same(
    got.slice(0, device),
    legacy.map((l) => [l, '{"migrate_discovery":true}', false]),
    'first Home Assistant’s migration message on each old topic, not retained',
  );
  t.same(
    got.slice(device + 1),
    legacy.map((l) => [l, '', false]),
    'then the device config, then each old topic cleared',
  );
  const saved = async () => JSON.parse(await readFile(join(stateDir, 'homeassistant.json'), 'utf8'));
  await waitFor('homeassistant.json says device', async () => (await saved()).form === 'device');
  t.same(await saved(), { prefix: 'homeassistant', form: 'device' });
  const late = await listener(t, broker.url, 'homeassistant', ['homeassistant/#', status]);
  await waitFor('the retained status after the configs', () => late.messages.some((m) => m.topic === status));
  t.same(
    late.messages.map((m) => m.topic),
    [configTopic, status],
    'only the device config is left',
  );
  await agent.service.stop();

  // Started again: the device config only.
  const again = ha.messages.length;
  const second = await startAgent(t, stateDir, broker.url, undefined, ['--homeassistant']);
  await waitFor('announced again', () => ha.messages.slice(again).some((m) => m.topic === configTopic));
  t.same(
    ha.messages.slice(again).map((m) => m.topic),
    [configTopic],
  );
  await second.service.stop();
});

t.test('upgrade on the shipped ACL over MQTT 5: the refusal logged, nothing held up', async (t) => {
  const broker = await agentBroker(t);
  const stateDir = join(await serviceDir(t), 'state');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(join(stateDir, 'homeassistant.json'), JSON.stringify({ prefix: 'homeassistant' }));
  const ha = await listener(t, broker.url, 'homeassistant', [
    'homeassistant/#',
    'bookrec/devices/dev-a/replies',
  ]);
  const agent = await startAgent(t, stateDir, broker.url, undefined, [
    '--homeassistant',
    '--mqtt-version',
    '5',
  ]);
  const config = await waitFor('the device config', () => ha.json(configTopic).at(-1));
  const refused = () =>
    agent.log.lines.filter((l) => /could not clear an old per-entity/.test(String(l.msg)));
  // the migration message and the clear, on each old topic
  const refusals = await waitFor('both refusals on each old topic', () =>
    refused().length === legacy.length * 2 ? refused() : undefined,
  );
  t.match(refusals[0], { topic: legacy[0], error: /Not authorized/ });
  t.same(
    ha.messages.map((m) => m.topic),
    [configTopic],
    'the broker kept the old topics from Home Assistant',
  );
  // The outbox is not blocked: a command is answered.
  const { bookrec_quiet: quiet } = config.cmps as Record<string, Record<string, string>>;
  await ha.client.publishAsync(quiet.command_topic, quiet.payload_on, { qos: 1 });
  t.match(await waitFor('the reply', () => ha.json('bookrec/devices/dev-a/replies').at(-1)), {
    id: 'ha-quiet-on',
    ok: true,
  });
});
