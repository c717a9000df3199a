import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { writeCard } from '../../common/model/cardFile.js';
import { deviceDiscoveryTopic } from '../../common/protocol/homeAssistant.js';
import { testContext } from '../helpers/cliContext.js';
import { TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * Home Assistant and `bookrec ask` against a real agent on mosquitto with the production ACL: the agent
 * announces its device; what Home Assistant's button and switch send (as the "homeassistant" user)
 * reaches the agent and gets its reply; the last recommendation and the model version are there for a
 * Home Assistant that (re)starts later, also after the last will; turning discovery off, and agent
 * --homeassistant-remove, clear the config again.
 */
t.before(() => useBackend('wasm'));

const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;

t.test('discovery, the button, the switch and bookrec ask on a real agent', async (t) => {
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  const key = testKey();
  const broker = await agentBroker(t);
  const ha = await listener(t, broker.url, 'homeassistant', [
    'homeassistant/#',
    topic('replies'),
    topic('mode'),
    topic('status'),
  ]);
  const configTopic = deviceDiscoveryTopic('dev-a', 'homeassistant');
  const agent = await startAgent(t, stateDir, broker.url, key, ['--homeassistant']);
  const device = await waitFor('the device config', () => ha.json(configTopic).at(-1));
  const cmps = device.cmps as Record<string, Record<string, string>>;
  t.same(Object.keys(cmps).length, 6, 'six entities');
  const late = await listener(t, broker.url, 'homeassistant', ['homeassistant/#']);
  await waitFor('the config, retained, for a Home Assistant that starts later', () =>
    late.messages.some((m) => m.topic === configTopic && m.retain),
  );

  const pkg = await makePackage(join(dir, 'student'), { seed: 3 });
  // Issue 21 item 15e: the release carries its evaluation card; once installed it is the update's summary.
  await writeCard(pkg.dir, {
    format: 1,
    trainedAt: '2026-01-02T00:00:00.000Z',
    dataset: 'goodbooks-10k',
    ndcg10: 0.2512,
    modelBytes: 812_345,
  });
  const manifest = await publishPackage(t, broker.url, key, pkg.dir);
  await waitFor(
    'the model installed',
    () => agent.service.store.current?.release.version === manifest.version,
    20_000,
  );
  const summarised = await waitFor('the config announced again with the installed card', () =>
    late.messages
      .filter((m) => m.topic === configTopic && m.payload.length > 0)
      .map((m) => JSON.parse(m.payload.toString()) as { cmps: Record<string, Record<string, unknown>> })
      .find((c) => c.cmps.bookrec_model_update.release_summary !== undefined),
  );
  t.equal(
    summarised.cmps.bookrec_model_update.release_summary,
    `v${manifest.version}: NDCG@10 0.251, 812 kB, trained 2026-01-02`,
  );

  // What Home Assistant does when the button is pressed: its payload to its command topic.
  const { bookrec_recommend: button, bookrec_quiet: quiet } = cmps;
  await ha.client.publishAsync(button.command_topic, button.payload_press, { qos: 1 });
  const reply = await waitFor('the reply to ha-recommend', () =>
    ha.json(topic('replies')).find((r) => r.id === 'ha-recommend'),
  );
  t.match(reply, {
    ok: true,
    command: 'recommend',
    data: { deviceId: 'dev-a', trigger: 'command', modelVersion: manifest.version },
  });

  // Issue 21 item 15a: a Home Assistant (re)started after the answer still gets it (retained).
  const answerTopic = cmps.bookrec_last_recommendation.state_topic;
  const restarted = await listener(t, broker.url, 'homeassistant', [answerTopic]);
  const kept = await waitFor('the last recommendation, retained', () =>
    restarted.messages.find((m) => m.topic === answerTopic && m.retain),
  );
  t.match(JSON.parse(kept.payload.toString()), { trigger: 'command', text: /\w/ });

  await ha.client.publishAsync(quiet.command_topic, quiet.payload_on, { qos: 1 });
  t.match(await waitFor('quiet on', () => ha.json(topic('replies')).find((r) => r.id === 'ha-quiet-on')), {
    ok: true,
    data: { quiet: true },
  });
  t.match(await waitFor('the mode says quiet', () => ha.json(topic('mode')).find((m) => m.quiet === true)), {
    deviceId: 'dev-a',
  });
  t.ok(agent.service.quietMode.on);
  await access(join(stateDir, 'quiet.json'));

  // bookrec ask, as the deploy user: a reply printed, and a device that does not answer named.
  const ask = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  const askArgs = ['--broker', broker.url, '--username', 'deploy'];
  t.equal(await main(['ask', 'dev-a', 'quiet-off', ...askArgs], ask.ctx), 0, ask.err.join('\n'));
  t.same(JSON.parse(ask.out.join('\n')), { quiet: false });
  t.notOk(agent.service.quietMode.on);
  const status = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  t.equal(await main(['ask', 'dev-a', 'status', ...askArgs], status.ctx), 0, status.err.join('\n'));
  t.match(JSON.parse(status.out.join('\n')), {
    deviceId: 'dev-a',
    state: 'online',
    model: { version: manifest.version },
  });
  const silent = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  t.equal(await main(['ask', 'dev-b', 'recommend', ...askArgs, '--wait-seconds', '0.5'], silent.ctx), 1);
  t.equal(
    silent.err.join('\n'),
    'bookrec ask: dev-b did not answer "recommend" within 0.5 s (is it online? bookrec fleet shows its state) [NO_REPLY]',
  );
  const typo = testContext();
  t.equal(await main(['ask', 'dev-a', 'recomend', ...askArgs], typo.ctx), 2);
  t.match(typo.err[0], /unknown command "recomend" \(did you mean "recommend"\?\)/);

  // Issue 21 item 15b: the last will says offline and nothing else, on status; the model version and
  // the update entity read the report, which the will leaves alone.
  const link = agent.service.link as unknown as { client: MqttClient };
  link.client.stream.destroy();
  await waitFor('the last will', () => ha.json(topic('status')).some((s) => s.connectionLost === true));
  const versionTopic = cmps.bookrec_model_version.state_topic;
  t.equal(cmps.bookrec_model_update.state_topic, versionTopic);
  t.not(versionTopic, topic('status'), 'not the topic the will replaces');
  const afterWill = await listener(t, broker.url, 'homeassistant', [versionTopic]);
  const report = await waitFor('the retained report', () => afterWill.json(versionTopic).at(-1));
  t.match(report, { model: { version: manifest.version } }, 'the version is still there');
  await waitFor('back online', () => ha.json(topic('status')).at(-1)?.state === 'online');

  // Discovery turned off: the next start clears what was announced.
  await agent.service.stop();
  const cleared = (c: string) => ha.messages.some((m) => m.topic === c && m.payload.length === 0);
  const again = await startAgent(t, stateDir, broker.url, key, []);
  await waitFor('the config cleared', () => cleared(configTopic));
  await again.service.stop();

  // Announced again, then removed on purpose (before uninstalling).
  const third = await startAgent(t, stateDir, broker.url, key, ['--homeassistant']);
  const announced = ha.messages.length;
  await waitFor('announced again', () =>
    ha.messages.slice(announced).some((m) => m.topic === configTopic && m.payload.length > 0),
  );
  await third.service.stop();
  const before = ha.messages.length;
  const remove = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS['dev-a'], BOOKREC_DEVICE_ID: 'dev-a' });
  const code = await main(
    [
      'agent',
      '--homeassistant-remove',
      '--homeassistant',
      '--broker',
      broker.url,
      '--state-dir',
      stateDir,
      '--tts',
      'none',
    ],
    remove.ctx,
  );
  t.equal(code, 0, remove.err.join('\n'));
  t.equal(remove.out.join('\n'), 'removed the Home Assistant discovery config of dev-a');
  await waitFor('removed', () =>
    ha.messages.slice(before).some((m) => m.topic === configTopic && m.payload.length === 0),
  );
});
