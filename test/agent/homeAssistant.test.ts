import { access } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { discoveryTopics } from '../../common/protocol/homeAssistant.js';
import { testContext } from '../helpers/cliContext.js';
import { TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * Home Assistant and `bookrec ask` against a real agent on mosquitto with the production ACL: the agent
 * announces its entities; what Home Assistant's button and switch send (as the "homeassistant" user)
 * reaches the agent and gets its reply; turning discovery off, and agent --homeassistant-remove, clear
 * the configs again.
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
  ]);
  const configTopics = discoveryTopics('dev-a', 'homeassistant');
  const agent = await startAgent(t, stateDir, broker.url, key, ['--homeassistant']);
  const configs = await waitFor('five discovery configs', () => {
    const got = configTopics.map((c) => ha.json(c).at(-1));
    return got.every(Boolean) ? got : undefined;
  });
  const late = await listener(t, broker.url, 'homeassistant', ['homeassistant/#']);
  await waitFor('the configs, retained, for a Home Assistant that starts later', () =>
    configTopics.every((c) => late.messages.some((m) => m.topic === c && m.retain)),
  );

  const pkg = await makePackage(join(dir, 'student'), { seed: 3 });
  const manifest = await publishPackage(t, broker.url, key, pkg.dir);
  await waitFor(
    'the model installed',
    () => agent.service.store.current?.release.version === manifest.version,
    20_000,
  );

  // What Home Assistant does when the button is pressed: its payload to its command topic.
  const [button, , , , quiet] = configs as Record<string, string>[];
  await ha.client.publishAsync(button.command_topic, button.payload_press, { qos: 1 });
  const reply = await waitFor('the reply to ha-recommend', () =>
    ha.json(topic('replies')).find((r) => r.id === 'ha-recommend'),
  );
  t.match(reply, {
    ok: true,
    command: 'recommend',
    data: { deviceId: 'dev-a', trigger: 'command', modelVersion: manifest.version },
  });

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

  // Discovery turned off: the next start clears what was announced.
  await agent.service.stop();
  const cleared = (c: string) => ha.messages.some((m) => m.topic === c && m.payload.length === 0);
  const again = await startAgent(t, stateDir, broker.url, key, []);
  await waitFor('every config cleared', () => configTopics.every(cleared));
  await again.service.stop();

  // Announced again, then removed on purpose (before uninstalling).
  const third = await startAgent(t, stateDir, broker.url, key, ['--homeassistant']);
  const announced = ha.messages.length;
  await waitFor(
    'announced again',
    () => ha.messages.slice(announced).filter((m) => m.payload.length > 0).length >= 5,
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
  t.equal(remove.out.join('\n'), 'removed the Home Assistant discovery configs of dev-a');
  await waitFor('removed', () =>
    configTopics.every((c) => ha.messages.slice(before).some((m) => m.topic === c && m.payload.length === 0)),
  );
});
