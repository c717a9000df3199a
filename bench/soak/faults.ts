import { spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { agentClientId } from '../../agent/mqttLink.js';
import { BookrecError } from '../../common/errors.js';
import { DEFAULT_LIMITS, type SignedManifest } from '../../common/protocol/manifest.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { readRetained } from '../../deploy/retained.js';
import type { Harness } from '../../sim/harness.js';
import type { SoakBroker } from './broker.js';

/**
 * The faults the soak injects, each with the real part that fails: mosquitto killed with SIGKILL, TCP
 * connections cut in the relay, releases signed by the real key with content that does not match (or a
 * manifest whose signature does not), and a real `bookrec publish` process killed mid-way. Each
 * returns a one-line account of what it did; whether the fleet coped is checked by the caller.
 */

/** Cuts the connections of the given devices; returns how many connections were cut. */
export function dropConnections(broker: SoakBroker, deviceIds: readonly string[]): number {
  // The agent's own client id (one per device: its persistent session), from the agent's code.
  const ids = new Set(deviceIds.map(agentClientId));
  return broker.proxy.drop((clientId) => ids.has(clientId));
}

/**
 * SIGKILLs mosquitto and starts it again on the same port, then reads which channel manifest it
 * restored from its persistence file (saved only every autosave_interval and on a clean stop, so a
 * kill can lose the newest retained messages).
 */
export async function restartBroker(
  broker: SoakBroker,
  h: Harness,
): Promise<{ downMs: number; manifestVersion: number | undefined }> {
  const downMs = await broker.killAndRestart();
  // The operator's link reconnects by itself; reading retained messages retries until it has.
  const manifestVersion = await retry(() => readManifestVersion(h));
  return { downMs, manifestVersion };
}

/** The version of the channel manifest the broker holds now (undefined: none). */
export async function readManifestVersion(h: Harness): Promise<number | undefined> {
  const topic = h.topics.manifest(h.channel);
  const m = await readRetained(h.deployer.link, [topic], h.deployer.ctx.retained);
  const payload = m.get(topic);
  if (!payload || payload.length === 0) return undefined;
  try {
    return (JSON.parse(payload.toString('utf8')) as { version?: number }).version;
  } catch {
    return undefined;
  }
}

/**
 * A release signed with the real key whose one chunk has a flipped byte: its manifest is valid, the
 * bytes do not hash to the signed sha256, so every device must refuse it (FILE_SHA256) and keep its
 * model.
 */
export async function publishCorrupted(
  h: Harness,
  key: KeyObject,
  packageDir: string,
  version: number,
): Promise<SignedManifest> {
  const files = await readPackage(packageDir, 64 * 1024, DEFAULT_LIMITS);
  const victim = files.reduce((a, b) => (b.data.length > a.data.length ? b : a));
  const data = Buffer.from(victim.data);
  data[Math.floor(data.length / 2)] ^= 0xff;
  victim.data = data; // entry (size, sha256) stays that of the original bytes: what the key signs
  return publishRelease(
    h.deployer.ctx,
    {
      channel: h.channel,
      model: 'soak-corrupt',
      version,
      minAgentVersion: '0.1.0',
      metrics: {},
      percent: 100,
      files,
    },
    key,
  );
}

/**
 * A manifest for a newer version whose signature does not match its content (the signature of the
 * release it was copied from): published retained on the channel topic, as an attacker with broker
 * access could. Devices must refuse it (MANIFEST_SIGNATURE).
 */
export async function publishBadSignature(h: Harness, from: SignedManifest, version: number): Promise<void> {
  const forged = { ...from, version, serial: from.serial + 1, previousVersion: from.version };
  await h.deployer.link.publish(h.topics.manifest(h.channel), JSON.stringify(forged), {
    retain: true,
    json: true,
  });
}

/** The built CLI (the soak runs from dist/ in the bench and from the sources under tap). */
export function cliPath(): string {
  const candidates = [
    fileURLToPath(new URL('../../cli/bookrec.js', import.meta.url)),
    resolve('dist/cli/bookrec.js'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new BookrecError('SOAK_CLI', `bookrec CLI not built (${candidates.join(', ')}): npm run build`);
  return found;
}

export interface KilledPublish {
  version: number;
  totalChunks: number;
  /** Chunks the broker had received when the publisher was killed. */
  chunksSeen: number;
  signal: NodeJS.Signals | null;
}

/**
 * Runs `bookrec publish` as its own process, slowed to `rate` chunks per second in 1 KiB chunks, and
 * SIGKILLs it once the broker has `killAfter` of its chunks (watched with a deploy-user client). The
 * release record and those chunks stay retained; the channel manifest never comes, so no device may
 * install it; the next publish clears what it left.
 */
export async function killPublisherMidway(
  broker: SoakBroker,
  h: Harness,
  opts: {
    packageDir: string;
    keyPem: string;
    keyFile: string;
    deployPassword: string;
    version: number;
    rate: number;
    killShare: number;
  },
): Promise<KilledPublish> {
  await writeFile(opts.keyFile, opts.keyPem, { mode: 0o600 });
  const files = await readPackage(opts.packageDir, 1024, DEFAULT_LIMITS);
  const totalChunks = files.reduce((n, f) => n + f.entry.chunks, 0);
  const killAfter = Math.max(1, Math.floor(totalChunks * opts.killShare));
  const watcher = await mqtt.connectAsync(broker.directUrl, {
    username: 'deploy',
    password: opts.deployPassword,
    clientId: `soak-watch-${process.pid}`,
    reconnectPeriod: 500,
  });
  try {
    let seen = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((r) => {
      reached = r;
    });
    watcher.on('message', (_topic, payload) => {
      if (payload.length > 0 && ++seen >= killAfter) reached();
    });
    // Chunk topics only: releases/<channel>/<version>/<file>/<n> (the record is .../<version>/manifest).
    await watcher.subscribeAsync(`${h.topics.prefix}/releases/${h.channel}/${opts.version}/+/+`, { qos: 0 });
    const child = spawn(
      process.execPath,
      [
        cliPath(),
        'publish',
        opts.packageDir,
        '--channel',
        h.channel,
        '--broker',
        broker.directUrl,
        '--username',
        'deploy',
        '--key-file',
        opts.keyFile,
        '--chunk-size',
        '1024',
        '--max-chunks-per-second',
        String(opts.rate),
        '--model-version',
        String(opts.version),
        '--model',
        'soak-killed',
      ],
      {
        env: { ...process.env, BOOKREC_MQTT_PASSWORD: opts.deployPassword },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      child.once('exit', (_code, signal) => r(signal)),
    );
    const outcome = await Promise.race([
      enough.then(() => 'enough' as const),
      exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'exited') {
      throw new BookrecError(
        'SOAK_PUBLISH',
        `bookrec publish ended before it could be killed (${seen} chunks): ${stderr}`,
      );
    }
    child.kill('SIGKILL');
    const signal = await exited;
    return { version: opts.version, totalChunks, chunksSeen: seen, signal };
  } finally {
    await watcher.endAsync().catch(() => watcher.end(true));
  }
}

async function retry<T>(work: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
