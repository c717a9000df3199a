import t from 'tap';
import { connectMqtt } from '../../common/mqttConnect.js';
import { mosquitto, TEST_USERS } from '../helpers/mosquitto.js';

/**
 * connectMqtt builds on mqtt.js's manualConnect (to put the packet guard under every connection), which
 * also changes how end() behaves: a client ended before its CONNACK went on reconnecting forever once its
 * broker went away (a stopped agent kept its test process alive).
 */
t.test('a client ended before it connected does not reconnect afterwards', async (t) => {
  const broker = await mosquitto(t);
  const client = connectMqtt(broker.url, {
    username: 'dev-a',
    password: TEST_USERS['dev-a'],
    clientId: 'early-end',
    reconnectPeriod: 50,
  });
  let reconnects = 0;
  client.on('reconnect', () => reconnects++);
  await client.endAsync();
  await broker.stop();
  // Several reconnect periods: a client that wrongly reconnects does so within the first.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(reconnects, 0, 'no reconnect after end');
  client.end(true);
});
