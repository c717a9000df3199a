import mqtt from 'mqtt';
import t from 'tap';
import { createMemoryLogger } from '../../common/log.js';
import { startEmbeddedBroker } from '../../deploy/broker.js';
import { scaled } from '../helpers/time.js';

/**
 * The embedded broker (aedes, which has no packet limit of its own) disconnects a client at the header
 * of a packet above 256 KiB, as mosquitto does with max_packet_size: nothing of it is stored or sent on,
 * and the broker keeps serving everyone else. Before, a retained 100 MB message was kept and sent to
 * every agent on every reconnect.
 */
t.test('aedes: a packet above the limit ends its sender connection and is never stored', async (t) => {
  const log = createMemoryLogger();
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log });
  t.teardown(() => broker.stop());
  const opts = { reconnectPeriod: 0, connectTimeout: scaled(5000) };
  const reader = await mqtt.connectAsync(broker.url, opts);
  t.teardown(() => reader.end(true));
  const got: [string, number][] = [];
  reader.on('message', (topic, payload) => got.push([topic, payload.length]));
  await reader.subscribeAsync('bookrec/#', { qos: 1 });

  const sender = await mqtt.connectAsync(broker.url, opts);
  t.teardown(() => sender.end(true));
  const closed = new Promise<void>((resolve, reject) => {
    sender.once('close', () => resolve());
    setTimeout(() => reject(new Error('the sender was not disconnected')), scaled(10_000)).unref();
  });
  sender.publish('bookrec/fleet/stable/manifest', Buffer.alloc(1024 * 1024, 1), { qos: 1, retain: true });
  await closed;
  t.pass('the sender was disconnected');
  t.match(
    log.lines.find((l) => l.msg === 'client disconnected: packet too large'),
    { reason: /PUBLISH packet of 1048\d{3} bytes/ },
  );

  // The broker goes on: a normal message passes, and the big one was never retained.
  const other = await mqtt.connectAsync(broker.url, opts);
  t.teardown(() => other.end(true));
  await other.publishAsync('bookrec/fleet/stable/manifest', Buffer.alloc(200 * 1024, 2), {
    qos: 1,
    retain: true,
  });
  const late = await mqtt.connectAsync(broker.url, opts);
  t.teardown(() => late.end(true));
  const retained: number[] = [];
  late.on('message', (_topic, payload) => retained.push(payload.length));
  await late.subscribeAsync('bookrec/fleet/stable/manifest', { qos: 1 });
  const deadline = Date.now() + scaled(5000);
  while (retained.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.same(retained, [200 * 1024], 'the retained message is the 200 KiB one, never the 1 MiB one');
  t.notOk(
    got.some(([, n]) => n > 256 * 1024),
    'no subscriber ever received the oversized message',
  );
});
