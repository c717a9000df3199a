import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { BookrecError } from '../common/errors.js';
import { parseStatus, type SeenStatus } from '../common/protocol/status.js';
import { TopicMap } from '../common/protocol/topics.js';
import { type Child, logTail, type Processes } from './processes.js';

/**
 * The demo's speakers: each a `bookrec agent` process with its own config file and state directory
 * (out/demo/agents/<id>/), following its own signal file and with its recommend button on GPIO line 17
 * of the `file` backend, whose levels file the demo writes to press it. The demo watches them the way an
 * operator would: their retained status and their recommendations over MQTT.
 */
export const RECOMMEND_LINE = 17;
export const CHANNEL = 'stable';

export interface Speaker {
  id: string;
  dir: string;
  stateDir: string;
  configFile: string;
  signalFile: string;
  linesFile: string;
  child?: Child;
}

export interface SpeakerSettings {
  brokerUrl: string;
  publicKey: string;
  /** Recommendations' length. */
  count: number;
  /** aplay when there is a sound card, else WAV only. */
  audio: 'aplay' | 'none';
}

/**
 * Writes a speaker's folder from scratch (the previous run's state is removed: every run starts with
 * factory-new speakers) and its config file, the same JSON a real device's /etc file would hold.
 */
export async function prepareSpeaker(root: string, id: string, s: SpeakerSettings): Promise<Speaker> {
  const dir = join(root, id);
  await rm(dir, { recursive: true, force: true });
  const sp: Speaker = {
    id,
    dir,
    stateDir: join(dir, 'state'),
    configFile: join(dir, 'agent.json'),
    signalFile: join(dir, 'signals.jsonl'),
    linesFile: join(dir, 'gpio-lines'),
  };
  await mkdir(sp.stateDir, { recursive: true, mode: 0o700 });
  await writeFile(sp.signalFile, '');
  await setLine(sp, 1);
  const config = {
    deviceId: id,
    broker: { url: s.brokerUrl, reconnectMinSeconds: 0.5, reconnectMaxSeconds: 5 },
    channel: CHANNEL,
    stateDir: sp.stateDir,
    trustedKeys: s.publicKey,
    signals: { file: sp.signalFile, pollMs: 100, mqtt: true },
    gpio: { backend: 'file', linesFile: sp.linesFile, recommendPin: RECOMMEND_LINE },
    tts: { engine: 'espeak-ng' },
    audio: { sink: s.audio },
    // The owner's own machine: the answer the demo prints (from the recommendations topic) may name the
    // book it is based on, as the speaker says it aloud. Off by default for a speaker (privacy).
    output: { mode: 'both', count: s.count, shareHistory: true },
  };
  await writeFile(sp.configFile, `${JSON.stringify(config, null, 2)}\n`);
  return sp;
}

/** Sets the recommend line's level, replacing the file by rename so the agent never reads half of it. */
async function setLine(sp: Speaker, level: 0 | 1): Promise<void> {
  const tmp = `${sp.linesFile}.tmp`;
  await writeFile(tmp, `${RECOMMEND_LINE} ${level}\n`);
  await rename(tmp, sp.linesFile);
}

/** A press as the button makes it: the line pulled low (active low) for holdMs, then released. */
export async function pressRecommend(sp: Speaker, holdMs = 150): Promise<void> {
  await setLine(sp, 0);
  await new Promise((r) => setTimeout(r, holdMs));
  await setLine(sp, 1);
}

export function startSpeaker(processes: Processes, sp: Speaker): Child {
  sp.child = processes.start(sp.id, ['agent', '--config', sp.configFile], join(sp.dir, 'agent.log'));
  return sp.child;
}

/** The demo's MQTT client: what the devices report (retained status) and say (recommendations). */
export class FleetWatch {
  readonly topics = new TopicMap();
  readonly statuses = new Map<string, SeenStatus>();
  private readonly client: MqttClient;
  private readonly listeners = new Set<() => void>();
  readonly recommendations: { deviceId: string; message: Record<string, unknown> }[] = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload) => {
      const statusOf = this.topics.parseDevice(topic, 'status');
      const recOf = this.topics.parseDevice(topic, 'recommendations');
      if (statusOf) {
        const st = parseStatus(payload);
        if (st && st.deviceId === statusOf) this.statuses.set(statusOf, st);
      } else if (recOf) {
        try {
          this.recommendations.push({ deviceId: recOf, message: JSON.parse(payload.toString('utf8')) });
        } catch {
          // not JSON: not an answer the demo can show
        }
      }
      for (const l of this.listeners) l();
    });
  }

  static async connect(url: string): Promise<FleetWatch> {
    const client = await mqtt.connectAsync(url, {
      clientId: `bookrec-demo-${process.pid}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    const watch = new FleetWatch(client);
    await client.subscribeAsync(
      [watch.topics.allDevices('status'), watch.topics.allDevices('recommendations')],
      { qos: 1 },
    );
    return watch;
  }

  /**
   * Resolves when check() gives a value; rejects after timeoutMs, on abort (Ctrl-C), or at once when a
   * speaker process has died (quoting its log), so a broken agent fails the demo in seconds, not at the
   * timeout.
   */
  async until<T>(
    what: string,
    check: () => T | undefined,
    speakers: Speaker[],
    limits: { timeoutMs: number; signal: AbortSignal },
  ): Promise<T> {
    const { timeoutMs, signal } = limits;
    const died = speakers.map((sp) =>
      sp.child!.exited.then(async (code) => {
        throw new BookrecError(
          'DEMO_AGENT_DIED',
          `${sp.id} exited (${code}) while waiting for ${what}; the end of ${sp.child!.logFile}:\n${await logTail(sp.child!.logFile)}`,
        );
      }),
    );
    let listener: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const found = new Promise<T>((resolve, reject) => {
      listener = () => {
        try {
          const v = check();
          if (v !== undefined) resolve(v);
        } catch (err) {
          reject(err);
        }
      };
      this.listeners.add(listener);
      listener();
      timer = setTimeout(
        () => reject(new BookrecError('DEMO_TIMEOUT', `no ${what} after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      onAbort = () => reject(new BookrecError('DEMO_ABORTED', `interrupted while waiting for ${what}`));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([found, ...died]);
    } finally {
      if (listener) this.listeners.delete(listener);
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      for (const d of died) d.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/**
 * The install state of one speaker for a release: 'installed' once its retained status names the
 * version as installed; a failure report is thrown (the demo cannot go on with a speaker that refused
 * the release, and the code says why).
 */
export function installState(st: SeenStatus | undefined, version: number): 'installed' | 'waiting' {
  if (!st) return 'waiting';
  const u = st.lastUpdate;
  if (u && u.version === version && u.result !== 'installed') {
    throw new BookrecError(
      'DEMO_INSTALL_FAILED',
      `${st.deviceId} reported ${u.result} for version ${version}: ${u.code ?? ''} ${u.reason ?? ''}`.trim(),
    );
  }
  return st.state === 'online' && st.model?.version === version && u?.result === 'installed'
    ? 'installed'
    : 'waiting';
}
