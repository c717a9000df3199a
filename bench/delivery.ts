/**
 * Release delivery over a real mosquitto on loopback (the production config and ACL, no TLS): one
 * device receiving and verifying a 1 MB package, 200 devices (separate client connections) doing it at
 * once with the broker's memory, and a chunk size sweep. Run: npm run build && node dist/bench/run.js delivery
 */
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { DEFAULT_LIMITS } from '../common/protocol/manifest.js';
import { type ReceiverEvent, ReleaseReceiver } from '../common/protocol/receiver.js';
import { generateSigningKey, trustedKeys } from '../common/protocol/signing.js';
import { TopicMap } from '../common/protocol/topics.js';
import { mqttTransport } from '../common/protocol/transport.js';
import { type MosquittoBroker, startMosquitto } from '../deploy/mosquittoProcess.js';
import { readPackage } from '../deploy/packageFiles.js';
import { publishRelease } from '../deploy/publisher.js';
import { benchPublishContext } from './publishContext.js';

const DEVICES = 200;
const PACKAGE_BYTES = 1024 * 1024;
const topics = new TopicMap();
const pair = generateSigningKey();
const key = createPrivateKey(pair.privateKeyPem);
const keys = trustedKeys([pair.publicKey]);

interface Device {
  id: string;
  client: MqttClient;
}

async function connect(url: string, id: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username: id,
    password: `${id}-pw`,
    clientId: id,
    protocolVersion: 4,
    reconnectPeriod: 500,
    connectTimeout: 30_000,
  });
}

/** Starts a receiver on each device and resolves when every one has completed or failed. */
async function receiveAll(devices: Device[]): Promise<{ ms: number; ok: number; failed: string[] }> {
  const started = performance.now();
  const failed: string[] = [];
  let ok = 0;
  const receivers: ReleaseReceiver[] = [];
  await new Promise<void>((resolve) => {
    let pending = devices.length;
    const done = () => {
      if (--pending === 0) resolve();
    };
    for (const d of devices) {
      const onEvent = (e: ReceiverEvent) => {
        if (e.type === 'failed' || e.type === 'rejected' || e.type === 'skipped') {
          failed.push(`${d.id}: ${e.code} ${e.reason}`);
          done();
        }
      };
      const receiver = new ReleaseReceiver({
        transport: mqttTransport(d.client, { timeoutMs: 30_000 }),
        topics,
        channel: 'stable',
        deviceId: d.id,
        agentVersion: '0.1.0',
        keys,
        state: () => ({ installedVersion: null, lastSerial: null }),
        onRelease: async () => {
          ok++;
          done();
        },
        onEvent,
        chunkTimeoutMs: 10_000,
      });
      receivers.push(receiver);
      receiver.start().catch((err: unknown) => {
        failed.push(`${d.id}: ${(err as Error).message}`);
        done();
      });
    }
  });
  const ms = performance.now() - started;
  await Promise.all(receivers.map((r) => r.stop()));
  return { ms, ok, failed };
}

/** Peak resident memory of the broker while `work` runs, sampled every 20 ms. */
async function withBrokerPeak<T>(broker: MosquittoBroker, work: () => Promise<T>): Promise<[T, number]> {
  let peak = (await broker.memoryKiB()).rss;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, (await broker.memoryKiB()).rss);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return [await work(), peak];
  } finally {
    running = false;
    await sampler;
  }
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

export default async function bench(print: (text: string) => void): Promise<void> {
  const users: Record<string, string> = { deploy: 'deploy-pw' };
  for (let i = 0; i < DEVICES; i++) users[`dev-${i}`] = `dev-${i}-pw`;
  const broker = await startMosquitto({ users, persistence: false });
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-bench-'));
  const devices: Device[] = [];
  let deploy: MqttClient | undefined;
  try {
    const data = Buffer.alloc(PACKAGE_BYTES);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await writeFile(join(dir, 'weights.bin'), data);
    await writeFile(join(dir, 'model.json'), '{"format":"bench"}');
    deploy = await connect(broker.url, 'deploy');
    const transport = mqttTransport(deploy, { timeoutMs: 30_000 });
    const ctx = benchPublishContext(transport, topics);
    print(
      `mosquitto on loopback (production config and ACL, MQTT 3.1.1, no TLS); package 1 MiB + model.json`,
    );
    print(`broker memory at start: ${mib((await broker.memoryKiB()).rss)}`);
    for (let i = 0; i < DEVICES; i++)
      devices.push({ id: `dev-${i}`, client: await connect(broker.url, `dev-${i}`) });
    print(`${DEVICES} devices connected; broker memory ${mib((await broker.memoryKiB()).rss)}`);

    print('');
    print('chunk KiB | publish ms | 1 device ms (median of 5) | 200 devices ms | ok/failed | broker peak');
    for (const chunkKiB of [16, 64, 128]) {
      const files = await readPackage(dir, chunkKiB * 1024, DEFAULT_LIMITS);
      const t0 = performance.now();
      await publishRelease(
        ctx,
        {
          channel: 'stable',
          model: 'bench',
          version: 0,
          minAgentVersion: '0.1.0',
          metrics: {},
          percent: 100,
          files,
        },
        key,
      );
      const publishMs = performance.now() - t0;
      const singles: number[] = [];
      for (let r = 0; r < 5; r++) {
        const one = await receiveAll([devices[0]]);
        if (one.failed.length > 0) throw new Error(`single device failed: ${one.failed[0]}`);
        singles.push(one.ms);
      }
      singles.sort((a, b) => a - b);
      const [fleet, peak] = await withBrokerPeak(broker, () => receiveAll(devices));
      print(
        `${String(chunkKiB).padStart(9)} | ${publishMs.toFixed(0).padStart(10)} | ${singles[2].toFixed(1).padStart(25)} | ` +
          `${fleet.ms.toFixed(0).padStart(14)} | ${`${fleet.ok}/${fleet.failed.length}`.padStart(9)} | ${mib(peak)}`,
      );
      for (const f of fleet.failed.slice(0, 5)) print(`  failed: ${f}`);
    }
    print('');
    print(
      'publish: read the channel state (50 ms quiet period), record, chunks (QoS 1, 8 in flight), manifest',
    );
    print('receive: from receiver start (manifest subscribe) to every file verified (size + sha256)');
  } finally {
    for (const d of devices) d.client.end(true);
    deploy?.end(true);
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
