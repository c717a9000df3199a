import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { BookrecError } from '../../common/errors.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { generateSigningKey } from '../../common/protocol/signing.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { mqttTransport, type Transport } from '../../common/protocol/transport.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { benchPublishContext } from '../publishContext.js';
import { DEVICE_PASSWORD, startBrokers, type Topology } from './brokers.js';
import { type DeviceFailure, nowMs } from './device.js';
import type { Unfinished } from './messages.js';
import { startPool } from './pool.js';

/**
 * One fan-out run: brokers, devices connected in batches, one signed release published by the operator,
 * every device's verdict, and the time and memory it took.
 */

export interface FanoutOptions {
  topology: Topology;
  devices: number;
  workers: number;
  /** Connections opened at once per worker. */
  batch: number;
  packageBytes: number;
  chunkBytes: number;
  /** Longest wait for every device's verdict; the devices still waiting are then reported. */
  timeoutMs: number;
  /** Changes a payload on its way to the broker (tests: a forged manifest, a corrupted chunk). */
  tamper?: (topic: string, payload: Buffer) => Buffer;
  progress?: (line: string) => void;
}

export interface MemoryFigures {
  name: string;
  /** After every device connected. */
  connectedKiB: number;
  /** Highest resident memory sampled (every 20 ms) from the publish to the last verdict. */
  deliveryPeakKiB: number;
  /** VmHWM at the end: the peak over the whole run, connections included. */
  hwmKiB: number;
}

export interface FanoutReport {
  topology: Topology;
  devices: number;
  workers: number;
  connected: number;
  connectMs: number;
  /** From the start of publishRelease to the channel manifest acknowledged. */
  publishMs: number;
  /** From the start of publishRelease to the last device verified. */
  allVerifiedMs: number;
  verified: number;
  failed: DeviceFailure[];
  unfinished: Unfinished[];
  brokers: MemoryFigures[];
  workerMemory: { rss: number; peak: number }[];
}

/** Every open file a broker needs: one per connection and a margin for its own files. */
async function checkFileLimit(devices: number): Promise<void> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? Number.POSITIVE_INFINITY);
  if (soft < devices + 256) {
    throw new BookrecError(
      'FILE_LIMIT',
      `${devices} devices need about ${devices + 256} open files in mosquitto, which inherits this process's limit of ${soft}: raise it (ulimit -n) or set FANOUT_DEVICES lower`,
    );
  }
}

function withTampering(transport: Transport, tamper: FanoutOptions['tamper']): Transport {
  if (!tamper) return transport;
  return {
    ...transport,
    publish: (topic, payload, options) =>
      transport.publish(topic, tamper(topic, Buffer.from(payload)), options),
  };
}

export async function runFanout(options: FanoutOptions): Promise<FanoutReport> {
  const say = options.progress ?? (() => {});
  await checkFileLimit(options.devices);
  const topics = new TopicMap();
  const signer = generateSigningKey();
  const ids = Array.from({ length: options.devices }, (_, i) => `fan-${i}`);
  const brokers = await startBrokers(options.topology, ids);
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-fanout-'));
  const deploy = await mqtt.connectAsync(brokers.publishTo.url, {
    ...brokers.deployUser,
    clientId: `deploy-${process.pid}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
  });
  let pool: Awaited<ReturnType<typeof startPool>> | undefined;
  try {
    const data = Buffer.alloc(options.packageBytes);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await writeFile(join(dir, 'weights.bin'), data);
    await writeFile(join(dir, 'model.json'), '{"format":"fanout-bench"}');
    const files = await readPackage(dir, options.chunkBytes, DEFAULT_LIMITS);

    say(`connecting ${options.devices} devices (${options.workers} worker processes)`);
    pool = await startPool(
      {
        host: '127.0.0.1',
        port: brokers.devicesOn.port,
        password: DEVICE_PASSWORD,
        prefix: topics.prefix,
        channel: 'stable',
        publicKeys: [signer.publicKey],
        batch: options.batch,
        keepaliveSeconds: 300,
        // The broker's own max_packet_size (deploy/mosquitto/mosquitto.conf).
        maxPacketBytes: 262_144,
        // Well under the broker's max_queued_messages (2000): nothing subscribed is dropped.
        maxChunks: 1000,
        connectTimeoutMs: 60_000,
      },
      ids,
      options.workers,
    );
    const connectedKiB = await Promise.all(brokers.all.map((b) => b.broker.memoryKiB()));
    say(`${pool.connected} connected in ${(pool.connectMs / 1000).toFixed(1)} s; publishing`);

    const peaks = connectedKiB.map((m) => m.rss);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await Promise.all(brokers.all.map((b) => b.broker.memoryKiB()));
        now.forEach((m, i) => {
          peaks[i] = Math.max(peaks[i], m.rss);
        });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const transport = withTampering(mqttTransport(deploy, { timeoutMs: 60_000 }), options.tamper);
    const started = nowMs();
    let result: Awaited<ReturnType<typeof pool.results>>;
    let publishMs: number;
    try {
      await publishRelease(
        benchPublishContext(transport, topics),
        {
          channel: 'stable',
          model: 'fanout',
          version: 0,
          minAgentVersion: '0.1.0',
          metrics: {},
          percent: 100,
          files,
        },
        createPrivateKey(signer.privateKeyPem),
      );
      publishMs = nowMs() - started;
      result = await pool.results(options.timeoutMs);
    } finally {
      sampling = false;
      await sampler;
    }
    const end = await Promise.all(brokers.all.map((b) => b.broker.memoryKiB()));
    return {
      topology: options.topology,
      devices: options.devices,
      workers: options.workers,
      connected: pool.connected,
      connectMs: pool.connectMs,
      publishMs,
      allVerifiedMs: result.lastVerifiedAt > 0 ? result.lastVerifiedAt - started : Number.NaN,
      verified: result.verified,
      failed: result.failed,
      unfinished: result.unfinished,
      brokers: brokers.all.map((b, i) => ({
        name: b.name,
        connectedKiB: connectedKiB[i].rss,
        deliveryPeakKiB: peaks[i],
        hwmKiB: end[i].peak,
      })),
      workerMemory: await pool.memoryKiB(),
    };
  } finally {
    await pool?.stop();
    await deploy.endAsync(true);
    await brokers.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
