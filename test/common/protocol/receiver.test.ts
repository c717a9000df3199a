import t from 'tap';
import { DEFAULT_LIMITS } from '../../../common/protocol/manifest.js';
import { TopicMap } from '../../../common/protocol/topics.js';
import { MemoryBroker } from '../../helpers/memoryBroker.js';
import { type BuiltRelease, buildRelease, bytes, testDevice, testKey } from '../../helpers/release.js';
import { scaled } from '../../helpers/time.js';

const signer = testKey();
const topics = new TopicMap();

/** Puts a release on the broker as deploy does: chunks first, then the manifest. */
function publish(broker: MemoryBroker, release: BuiltRelease, manifest: unknown = release.manifest) {
  for (const [topic, payload] of release.chunks) broker.publish(topic, payload, true);
  broker.publish(topics.manifest('stable'), JSON.stringify(manifest), true);
}

async function until(cond: () => boolean, limitMs = 5000): Promise<void> {
  const end = Date.now() + scaled(limitMs);
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function started(broker: MemoryBroker, overrides: Parameters<typeof testDevice>[2] = {}) {
  const device = testDevice(broker.client(), signer.keys, overrides);
  await device.receiver.start();
  t.teardown(() => device.receiver.stop());
  return device;
}

t.test('chunks out of order and duplicated: the files come back intact', async (t) => {
  const broker = new MemoryBroker();
  // Reverse and send everything twice: a broker may redeliver, and retained order is not guaranteed.
  broker.arrange = (m) => [...m].reverse().flatMap((x) => [x, x]);
  const release = buildRelease(signer.key, topics, { version: 1 });
  publish(broker, release);
  const device = await started(broker, { windowChunks: 4 });
  t.match(await device.outcome(), { type: 'complete', version: 1, bytes: 13_000 });
  t.equal(device.installed.length, 1);
  for (const [i, f] of release.files.entries()) {
    t.equal(device.installed[0].files[i].name, f.name);
    t.ok(device.installed[0].files[i].data.equals(f.data), `${f.name} intact`);
  }
  t.equal(device.state.installedVersion, 1);
});

t.test('chunks are asked for in a bounded window of exact topics', async (t) => {
  const broker = new MemoryBroker();
  const release = buildRelease(signer.key, topics, { version: 1 });
  publish(broker, release);
  const client = broker.client();
  let widest = 0;
  const subscribe = client.subscribe.bind(client);
  client.subscribe = async (list) => {
    for (const f of list) t.notMatch(f, /[+#]/, 'no wildcard chunk subscriptions');
    await subscribe(list);
    widest = Math.max(widest, [...client.subscriptions].filter((s) => s.includes('/releases/')).length);
  };
  const device = testDevice(client, signer.keys, { windowChunks: 3 });
  await device.receiver.start();
  t.teardown(() => device.receiver.stop());
  t.match(await device.outcome(), { type: 'complete' });
  t.ok(widest <= 3, `at most 3 chunk subscriptions at once (saw ${widest})`);
  t.ok(broker.subscribeCalls >= 1 + Math.ceil(13 / 3), 'one subscribe per window');
  t.equal(
    [...client.subscriptions].filter((s) => s.includes('/releases/')).length,
    0,
    'all unsubscribed at the end',
  );
});

t.test('tampered chunk: sha256 mismatch, nothing installed, the next good release installs', async (t) => {
  const broker = new MemoryBroker();
  const release = buildRelease(signer.key, topics, { version: 2, serial: 2 });
  const [topic, chunk] = [...release.chunks][5];
  const evil = Buffer.from(chunk);
  evil[100] ^= 0xff;
  release.chunks.set(topic, evil);
  publish(broker, release);
  const device = await started(broker);
  t.match(await device.outcome(), {
    type: 'failed',
    code: 'FILE_SHA256',
    reason: /weights\/group1.bin: sha256 .* does not match/,
  });
  t.equal(device.installed.length, 0, 'nothing installed');
  t.equal(device.state.installedVersion, null);
  publish(broker, buildRelease(signer.key, topics, { version: 3, serial: 3 }));
  t.match(await device.next((e) => e.type === 'complete'), { version: 3 }, 'the receiver keeps working');
  t.equal(device.installed.length, 1);
});

t.test('truncated file: a short last chunk is refused by length', async (t) => {
  const broker = new MemoryBroker();
  const release = buildRelease(signer.key, topics);
  const last = [...release.chunks.keys()].at(-1)!;
  release.chunks.set(last, release.chunks.get(last)!.subarray(0, 100));
  publish(broker, release);
  const device = await started(broker);
  t.match(await device.outcome(), {
    type: 'failed',
    code: 'CHUNK_INVALID',
    reason: /100 bytes, expected 784/,
  });
  t.equal(device.installed.length, 0);
});

t.test('truncated file: a missing chunk is asked for again, then fails with a timeout', async (t) => {
  const broker = new MemoryBroker();
  const release = buildRelease(signer.key, topics);
  const last = [...release.chunks.keys()].at(-1)!;
  release.chunks.delete(last);
  publish(broker, release);
  const device = await started(broker, { chunkTimeoutMs: 40, maxAttempts: 3 });
  const outcome = await device.outcome();
  t.match(outcome, { type: 'failed', code: 'TRANSFER_TIMEOUT', reason: /weights\/group1.bin#9/ });
  t.ok(device.events.filter((e) => e.type === 'retry').length >= 1, 'retried before giving up');
  t.equal(device.installed.length, 0);
});

t.test('lost chunks: time out, resubscribe, complete', async (t) => {
  const broker = new MemoryBroker();
  const dropped = new Set<string>();
  // The first delivery of every third chunk is lost, as over a flaky link.
  broker.deliver = (topic, payload) => {
    if (!topic.includes('/releases/') || dropped.has(topic) || Number(topic.split('/').pop()) % 3 !== 0) {
      return payload;
    }
    dropped.add(topic);
    return undefined;
  };
  publish(broker, buildRelease(signer.key, topics));
  const device = await started(broker, { chunkTimeoutMs: 30, maxAttempts: 4 });
  t.match(await device.outcome(), { type: 'complete' });
  t.ok(
    device.events.some((e) => e.type === 'retry'),
    'a retry happened',
  );
  t.ok(dropped.size >= 4);
});

t.test('manifests refused before any chunk is fetched', async (t) => {
  const other = testKey();
  const release = buildRelease(signer.key, topics, { version: 5, serial: 5 });
  const cases: [string, string, (b: MemoryBroker) => void][] = [
    [
      'wrong signature',
      'MANIFEST_SIGNATURE',
      (b) => publish(b, release, { ...release.manifest, version: 6 }),
    ],
    ['unknown key', 'MANIFEST_UNKNOWN_KEY', (b) => publish(b, buildRelease(other.key, topics))],
    [
      'malformed JSON',
      'MANIFEST_JSON',
      (b) => b.publish(topics.manifest('stable'), '{"format":1,"files":[', true),
    ],
    [
      'other channel',
      'MANIFEST_CHANNEL',
      (b) =>
        b.publish(
          topics.manifest('stable'),
          JSON.stringify(buildRelease(signer.key, topics, { channel: 'beta' }).manifest),
          true,
        ),
    ],
    [
      'oversized manifest',
      'MANIFEST_TOO_LARGE',
      (b) => b.publish(topics.manifest('stable'), Buffer.alloc(100_000, 0x20), true),
    ],
    [
      'missing field',
      'MANIFEST_INVALID',
      (b) => publish(b, release, { ...release.manifest, keyId: undefined }),
    ],
  ];
  for (const [name, code, put] of cases) {
    const broker = new MemoryBroker();
    put(broker);
    const device = await started(broker);
    const outcome = await device.outcome();
    t.match(outcome, { type: 'rejected', code }, name);
    t.ok(outcome.type === 'rejected' && outcome.reason.length > 10, `${name}: a reason is given`);
    t.equal(broker.subscribeCalls, 1, `${name}: only the manifest subscription, no chunks`);
    t.equal(device.installed.length, 0);
  }
});

t.test('replayed older manifest: a downgrade without the rollback flag is refused', async (t) => {
  const broker = new MemoryBroker();
  const old = buildRelease(signer.key, topics, { version: 1, serial: 1 });
  publish(broker, buildRelease(signer.key, topics, { version: 2, serial: 2 }));
  const device = await started(broker);
  t.match(await device.outcome(), { type: 'complete', version: 2 });
  publish(broker, old);
  t.match(await device.next((e) => e.type === 'rejected'), {
    code: 'MANIFEST_DOWNGRADE',
    reason: /version 1 is lower than the installed 2/,
  });
  t.equal(device.state.installedVersion, 2, 'still on version 2');
  // A signed rollback with a newer serial is what may go down.
  publish(broker, buildRelease(signer.key, topics, { version: 1, serial: 3, rollback: true }));
  t.match(await device.next((e) => e.type === 'complete' && e.version === 1), { serial: 3 });
  t.equal(device.state.installedVersion, 1);
});

t.test('a 2 GB claim is refused before anything is allocated', async (t) => {
  const broker = new MemoryBroker();
  const release = buildRelease(signer.key, topics);
  const huge = {
    ...release.manifest,
    files: [{ ...release.manifest.files[0], size: 2 ** 31, chunkSize: 65_536, chunks: 2 ** 15 }],
  };
  const { signManifest } = await import('../../../common/protocol/signing.js');
  const { signature: _s, keyId: _k, ...body } = huge;
  broker.publish(topics.manifest('stable'), JSON.stringify(signManifest(body, signer.key)), true);
  let allocated = 0;
  const device = await started(broker, {
    allocate: (n) => {
      allocated += n;
      return Buffer.alloc(Math.min(n, 1));
    },
  });
  t.match(await device.outcome(), {
    type: 'rejected',
    code: 'RELEASE_TOO_LARGE',
    reason: /2147483648 bytes/,
  });
  t.equal(allocated, 0, 'no buffer was asked for');
  t.equal(broker.subscribeCalls, 1);

  // The same limits bound a normal release: a device configured for less refuses it the same way.
  const small = new MemoryBroker();
  publish(small, buildRelease(signer.key, topics));
  const tight = await started(small, { limits: { ...DEFAULT_LIMITS, maxReleaseBytes: 12_000 } });
  t.match(await tight.outcome(), { type: 'rejected', code: 'RELEASE_TOO_LARGE' });
});

t.test('rollout: a device outside the percent skips, widening brings it in', async (t) => {
  const broker = new MemoryBroker();
  // Find a salt that puts dev-a outside a 10% rollout (about 9 in 10 salts do).
  const { rolloutBucket } = await import('../../../common/protocol/rolloutBucket.js');
  const salt = ['s1', 's2', 's3', 's4', 's5'].find((s) => rolloutBucket('dev-a', s) >= 10)!;
  publish(broker, buildRelease(signer.key, topics, { version: 1, serial: 1, percent: 10, salt }));
  const device = await started(broker);
  t.match(await device.outcome(), { type: 'skipped', code: 'NOT_IN_ROLLOUT' });
  publish(broker, buildRelease(signer.key, topics, { version: 1, serial: 2, percent: 100, salt }));
  t.match(await device.next((e) => e.type === 'complete'), { version: 1, serial: 2 });
});

t.test('redelivery, supersession, install failure and stop', async (t) => {
  const broker = new MemoryBroker();
  const v1 = buildRelease(signer.key, topics, {
    version: 1,
    serial: 1,
    files: [{ name: 'a.bin', data: bytes(50_000) }],
  });
  // Nothing is delivered from v1's chunks: its transfer stalls until v2 supersedes it.
  broker.deliver = (topic, payload) => (topic.includes('/stable/1/') ? undefined : payload);
  publish(broker, v1);
  let failInstall = true;
  const device = await started(broker, {
    chunkTimeoutMs: 5000,
    onRelease: async (release) => {
      if (failInstall) throw new Error('disk full');
      device.installed.push(release);
      device.state.installedVersion = release.manifest.version;
      device.state.lastSerial = release.manifest.serial;
    },
  });
  await device.next((e) => e.type === 'started' && e.version === 1);
  t.ok(device.receiver.busy);
  publish(broker, buildRelease(signer.key, topics, { version: 2, serial: 2 }));
  t.match(await device.next((e) => e.type === 'failed'), { code: 'TRANSFER_SUPERSEDED', version: 1 });
  t.match(await device.next((e) => e.type === 'failed' && e.version === 2), {
    code: 'INSTALL_FAILED',
    reason: 'disk full',
  });
  t.equal(device.state.installedVersion, null, 'a failed install changes nothing');

  // The same manifest again (a reconnect redelivers it) is retried after a failure...
  failInstall = false;
  const count = device.events.filter((e) => e.type === 'started').length;
  broker.publish(
    topics.manifest('stable'),
    JSON.stringify(buildRelease(signer.key, topics, { version: 2, serial: 2 }).manifest),
    true,
  );
  await until(() => device.installed.length === 1);
  t.equal(device.state.installedVersion, 2);
  t.equal(device.events.filter((e) => e.type === 'started').length, count + 1);
  // ...but not after success, and a cleared (empty) manifest is ignored.
  const before = device.events.length;
  broker.publish(
    topics.manifest('stable'),
    JSON.stringify(buildRelease(signer.key, topics, { version: 2, serial: 2 }).manifest),
    true,
  );
  broker.publish(topics.manifest('stable'), '', true);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(device.events.length, before, 'no new events');

  await device.receiver.stop();
  publish(broker, buildRelease(signer.key, topics, { version: 3, serial: 3 }));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(device.events.length, before, 'a stopped receiver hears nothing');
  await device.receiver.stop();
});

t.test('stop() during an install waits for the host to finish it', async (t) => {
  const broker = new MemoryBroker();
  let letGo = () => {};
  const gate = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  let handedOver = () => {};
  const installing = new Promise<void>((resolve) => {
    handedOver = resolve;
  });
  let finished = false;
  const client = broker.client();
  const device = testDevice(client, signer.keys, {
    onRelease: async () => {
      handedOver();
      await gate;
      finished = true;
    },
  });
  publish(broker, buildRelease(signer.key, topics, { version: 1 }));
  await device.receiver.start();
  await installing;
  t.ok(device.receiver.installing, 'the host is installing');
  let stopped = false;
  const stopping = device.receiver.stop().then(() => {
    stopped = true;
  });
  // The memory broker answers within microtasks, which all run before the next macrotask: past this, only
  // the install can hold stop().
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(client.subscriptions.size, 0, 'stop() unsubscribed');
  t.notOk(stopped, 'stop() waits');
  letGo();
  await stopping;
  t.ok(finished, 'the install was finished before stop() resolved');
  t.notOk(device.receiver.installing);
});

t.test('a release that arrives during an install is installed after it, never beside it', async (t) => {
  const broker = new MemoryBroker();
  let letGo = () => {};
  const gate = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const calls: string[] = [];
  const device = await started(broker, {
    onRelease: async (release) => {
      const v = release.manifest.version;
      calls.push(`start ${v}`);
      if (v === 1) await gate;
      calls.push(`end ${v}`);
      device.installed.push(release);
      device.state.installedVersion = v;
      device.state.lastSerial = release.manifest.serial;
    },
  });
  publish(broker, buildRelease(signer.key, topics, { version: 1, serial: 1 }));
  await until(() => calls.length === 1);
  publish(broker, buildRelease(signer.key, topics, { version: 2, serial: 2 }));
  await device.next((e) => e.type === 'complete' && e.version === 2);
  // v2 is downloaded and verified while v1 is still installing: it waits.
  t.same(calls, ['start 1'], 'v2 waits for v1');
  letGo();
  await until(() => device.installed.length === 2);
  t.same(calls, ['start 1', 'end 1', 'start 2', 'end 2'], 'in order, one at a time');
  t.equal(device.state.installedVersion, 2, 'the newer release is in use');
});
