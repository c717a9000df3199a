import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { mqttTransport } from '../../../common/protocol/transport.js';
import { waitFor } from '../../agent/helpers.js';
import { connectAs, mosquitto, TEST_USERS } from '../../helpers/mosquitto.js';

/**
 * Acknowledge after work, on a real mosquitto: a listener that returns a promise holds the message's
 * PUBACK until it settles. A persistent session whose client vanished before then gets the message
 * again when it returns; a listener that never finishes holds the connection no longer than ackWaitMs.
 */
const TOPIC = 'bookrec/devices/dev-a/signals';

interface T {
  teardown(fn: () => unknown): void;
}

/**
 * dev-a with a persistent session under one client id (as the agent's link), and a listener on it from
 * before the connection: what the session held arrives right after the CONNACK.
 */
async function session(t: T, url: string, listen: (client: MqttClient) => void): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    username: 'dev-a',
    password: TEST_USERS['dev-a'],
    clientId: 'transport-test-session',
    clean: false,
    reconnectPeriod: 0,
  });
  t.teardown(() => client.end(true));
  listen(client);
  await new Promise<void>((done, fail) => {
    client.once('connect', () => done());
    client.once('error', fail);
  });
  return client;
}

t.test('a message whose work did not finish is sent again to the returning session', async (t) => {
  const broker = await mosquitto(t);
  const sender = await connectAs(t, broker.url, 'dev-a');

  const seenFirst: string[] = [];
  // Work that never ends: a write stuck when the process died.
  const first = await session(t, broker.url, (c) =>
    mqttTransport(c, { timeoutMs: 5000 }).onMessage((_topic, payload) => {
      seenFirst.push(payload.toString());
      return new Promise(() => undefined);
    }),
  );
  await first.subscribeAsync(TOPIC, { qos: 1 });
  await sender.publishAsync(TOPIC, 'one', { qos: 1 });
  await waitFor('the first delivery', () => seenFirst.length === 1);
  // Gone without a word, as a kill -9 leaves it: the PUBACK was never sent.
  first.end(true);

  const seenSecond: string[] = [];
  const second = await session(t, broker.url, (c) =>
    mqttTransport(c, { timeoutMs: 5000 }).onMessage((_topic, payload) => {
      seenSecond.push(payload.toString());
      return Promise.resolve();
    }),
  );
  await waitFor('the message sent again', () => seenSecond.length === 1);
  t.same(seenSecond, ['one'], 'the broker resent what was not acknowledged');
  await new Promise<void>((done) => second.end(false, {}, () => done()));

  // That time the work finished, so it was acknowledged: the next session gets only what is new.
  await sender.publishAsync(TOPIC, 'two', { qos: 1 });
  const seenThird: string[] = [];
  await session(t, broker.url, (c) =>
    mqttTransport(c, { timeoutMs: 5000 }).onMessage(
      (_topic, payload) => void seenThird.push(payload.toString()),
    ),
  );
  await waitFor('the queued message', () => seenThird.includes('two'));
  t.same(seenThird, ['two'], 'acknowledged once the work was done');
});

t.test('work that never finishes holds the acknowledgement only ackWaitMs', async (t) => {
  const broker = await mosquitto(t);
  const sender = await connectAs(t, broker.url, 'dev-a');
  const seen: string[] = [];
  const client = await session(t, broker.url, (c) =>
    mqttTransport(c, { timeoutMs: 5000, ackWaitMs: 200 }).onMessage((_topic, payload) => {
      seen.push(payload.toString());
      return new Promise(() => undefined);
    }),
  );
  await client.subscribeAsync(TOPIC, { qos: 1 });
  await sender.publishAsync(TOPIC, 'a', { qos: 1 });
  await sender.publishAsync(TOPIC, 'b', { qos: 1 });
  // mqtt.js takes the next message only after the previous one's acknowledgement.
  await waitFor('both messages', () => seen.length === 2);
  t.same(seen, ['a', 'b']);
});
