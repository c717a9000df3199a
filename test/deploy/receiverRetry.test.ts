import t from 'tap';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import type { MessageTransport } from '../../common/protocol/transport.js';
import { mqttTransport } from '../../common/protocol/transport.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { deployOn } from '../helpers/deployHarness.js';
import { connectAs, mosquitto } from '../helpers/mosquitto.js';
import { bytes, packageDir, testDevice, testKey } from '../helpers/release.js';
import { scaled } from '../helpers/time.js';

/**
 * Chunk subscriptions after a failed transfer, on a real mosquitto with mqtt.js: every chunk topic the
 * receiver subscribed is released when its transfer ends, so a retry subscribes every missing chunk
 * afresh and the broker sends the retained chunks again. Before, the chunks that had arrived stayed
 * subscribed; mqtt.js skipped their SUBSCRIBE on the retry, the broker sent nothing, and the retry
 * waited a whole chunk timeout (15 s by default) for them.
 */
const signer = testKey();

/** The transport with a record of what is subscribed (subscribe adds, unsubscribe removes). */
function recording(inner: MessageTransport) {
  const subscribed = new Set<string>();
  const transport: MessageTransport = {
    async subscribe(topics) {
      for (const x of topics) subscribed.add(x);
      await inner.subscribe(topics);
    },
    async unsubscribe(topics) {
      for (const x of topics) subscribed.delete(x);
      await inner.unsubscribe(topics);
    },
    onMessage: (l) => inner.onMessage(l),
  };
  return { transport, subscribed };
}

t.test(
  'a chunk removed, the transfer times out, the chunk restored: the retry completes at once',
  async (t) => {
    const broker = await mosquitto(t);
    const { ctx, link } = await deployOn(t, broker.url);
    const dir = await packageDir(t, [
      { name: 'model.json', data: Buffer.from('{"m":1}') },
      { name: 'w.bin', data: bytes(40 * 1024, 5) },
    ]);
    const files = await readPackage(dir, 1024, DEFAULT_LIMITS);
    const manifest = await publishRelease(
      ctx,
      {
        channel: 'stable',
        model: 'm',
        version: 0,
        minAgentVersion: '0.1.0',
        metrics: {},
        percent: 100,
        files,
      },
      signer.key,
    );
    // The last chunk of w.bin goes missing (a cleared retained message).
    const missing = ctx.topics.chunk({ channel: 'stable', version: manifest.version, file: 1, chunk: 39 });
    const chunkData = files[1].data.subarray(39 * 1024);
    await link.publish(missing, Buffer.alloc(0), { retain: true });

    const client = await connectAs(t, broker.url, 'dev-a');
    const rec = recording(mqttTransport(client, { timeoutMs: scaled(5000) }));
    // The window covers the whole release (every chunk subscribed at once), and one window timeout is
    // the limit the retry must beat.
    const chunkTimeoutMs = scaled(2000);
    const device = testDevice(rec.transport, signer.keys, {
      chunkTimeoutMs,
      maxAttempts: 2,
      windowChunks: 64,
    });
    await device.receiver.start();
    t.teardown(() => device.receiver.stop());
    const failed = await device.next((e) => e.type === 'failed', 4 * chunkTimeoutMs);
    t.match(failed, { code: 'TRANSFER_TIMEOUT', reason: /w\.bin#39/ });
    const manifestTopic = ctx.topics.manifest('stable');
    t.same([...rec.subscribed], [manifestTopic], 'after the failure only the manifest stays subscribed');

    // The chunk is back; the manifest arrives again (as after a reconnect): the device tries again.
    await link.publish(missing, chunkData, { retain: true });
    const before = device.events.length;
    const started = performance.now();
    await link.publish(manifestTopic, JSON.stringify(manifest), { retain: true, json: true });
    const complete = await device.next((e) => e.type === 'complete', 4 * chunkTimeoutMs);
    const ms = performance.now() - started;
    const retry = device.events.slice(before);
    t.equal(complete.type === 'complete' && complete.version, manifest.version);
    t.notOk(
      retry.some((e) => e.type === 'retry'),
      `the retry completed without waiting for a window timeout (${ms.toFixed(0)} ms; timeout ${chunkTimeoutMs} ms)`,
    );
    t.ok(device.installed[0].files[1].data.equals(files[1].data), 'the restored chunk is in the file');
    t.same([...rec.subscribed], [manifestTopic], 'after the install no chunk topic stays subscribed');
  },
);
