import t from 'tap';
import { deviceDiscoveryTopic, legacyDiscoveryTopics } from '../../common/protocol/homeAssistant.js';
import { connectAs, mosquitto } from '../helpers/mosquitto.js';
import { listener } from './harness.js';
import { waitFor } from './helpers.js';

/**
 * Issue 21, item 6 (confused deputy): a device may announce to Home Assistant only on its own one
 * device-discovery topic. With the production ACL on a real mosquitto, device dev-a tries every other
 * discovery topic, each with a config whose command_topic is dev-b's commands (what Home Assistant
 * would then write to). MQTT 3.1.1: the broker drops what the ACL refuses silently, so each absence is
 * shown by a marker dev-a publishes afterwards on its own status topic (one client's QoS 1 messages
 * reach a subscriber in order).
 */
const forged = JSON.stringify({
  name: 'Recommend a book',
  unique_id: 'dev-a_evil',
  command_topic: 'bookrec/devices/dev-b/commands',
  payload_press: '{"id":"x","command":"quiet","on":true}',
});

t.test('a device cannot publish a discovery config other than its own device config', async (t) => {
  const broker = await mosquitto(t);
  const ha = await listener(t, broker.url, 'homeassistant', [
    'homeassistant/#',
    'bookrec/devices/dev-a/status',
  ]);
  const devA = await connectAs(t, broker.url, 'dev-a', { protocolVersion: 4 });
  const refused = [
    // the per-entity form under its own node id: what the old ACL let any device write, any payload
    'homeassistant/button/dev-a/bookrec_recommend/config',
    'homeassistant/button/dev-a/evil/config',
    ...legacyDiscoveryTopics('dev-a', 'homeassistant'),
    // another device's node id, in either form
    deviceDiscoveryTopic('dev-b', 'homeassistant'),
    'homeassistant/button/dev-b/bookrec_recommend/config',
    'homeassistant/device/dev-a/dev-b/config',
    'homeassistant/device/dev-a/config/extra',
  ];
  for (const topic of refused) await devA.publishAsync(topic, forged, { qos: 1, retain: true });
  await devA.publishAsync(deviceDiscoveryTopic('dev-a', 'homeassistant'), '{"mine":true}', {
    qos: 1,
    retain: true,
  });
  await devA.publishAsync('bookrec/devices/dev-a/status', 'marker', { qos: 1, retain: true });
  await waitFor('the marker', () => ha.messages.some((m) => m.payload.toString() === 'marker'));
  t.same(
    ha.messages
      .filter((m) => m.topic.startsWith('homeassistant/'))
      .map((m) => [m.topic, m.payload.toString()]),
    [['homeassistant/device/dev-a/config', '{"mine":true}']],
    'only dev-a’s own device config reaches Home Assistant',
  );

  // And nothing was kept: a Home Assistant that connects later sees only the device config. The
  // retained status comes after every retained config (one SUBSCRIBE, its filters in order).
  const late = await listener(t, broker.url, 'homeassistant', [
    'homeassistant/#',
    'bookrec/devices/dev-a/status',
  ]);
  await waitFor('the retained marker', () => late.messages.some((m) => m.payload.toString() === 'marker'));
  t.same(
    late.messages.map((m) => m.topic),
    ['homeassistant/device/dev-a/config', 'bookrec/devices/dev-a/status'],
  );
});
