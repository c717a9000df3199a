import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { AgentService, type ServiceContext } from '../../agent/service.js';
import { FakeGpio } from '../../agent/signals/gpio/fakeGpio.js';
import { createMemoryLogger } from '../../common/log.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import type { MosquittoBroker } from '../../deploy/mosquittoProcess.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { deployOn } from '../helpers/deployHarness.js';
import { mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import type { TestKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { scaledSeconds } from '../helpers/time.js';
import { testConfig } from './helpers.js';

/**
 * The agent's integration harness: mosquitto with the production config and ACL, plus what a speaker's
 * local apps need and the production ACL leaves to the installer (docs/agent.md): an "app" user that
 * reads recommendations and writes signals, and the Hermes topics for devices.
 */
interface T {
  teardown(fn: () => unknown): void;
}

export const APP_USER = 'app';
export const APP_PASSWORD = 'app-pw';

export const LOCAL_ACL = [
  '',
  '# test additions: a local app, and the Hermes (Rhasspy) topics for devices',
  `user ${APP_USER}`,
  'topic read bookrec/devices/+/recommendations',
  'topic write bookrec/devices/+/signals',
  'topic write bookrec/devices/+/commands',
  'topic readwrite hermes/#',
  'pattern read hermes/intent/#',
  'pattern write hermes/tts/say',
  'pattern write hermes/dialogueManager/endSession',
  '',
];

/**
 * mosquitto with the production config and ACL plus LOCAL_ACL and `aclExtra`; `extra` config lines are
 * appended.
 */
export async function agentBroker(
  t: T,
  extra: string[] = [],
  aclExtra: string[] = [],
): Promise<MosquittoBroker> {
  const configDir = await serviceDir(t);
  const production = join(process.cwd(), 'deploy', 'mosquitto');
  await copyFile(join(production, 'mosquitto.conf'), join(configDir, 'mosquitto.conf'));
  const acl = await readFile(join(production, 'acl'), 'utf8');
  await writeFile(join(configDir, 'acl'), acl + [...LOCAL_ACL, ...aclExtra, ''].join('\n'));
  return mosquitto(t, { configDir, users: { [APP_USER]: APP_PASSWORD }, extra });
}

/** A connected client collecting every message on `topics`. */
export async function listener(t: T, url: string, user: string, topics: string[]) {
  const client: MqttClient = await mqtt.connectAsync(url, {
    username: user,
    password: user === APP_USER ? APP_PASSWORD : TEST_USERS[user],
    clientId: `${user}-${Math.random().toString(16).slice(2, 8)}`,
    reconnectPeriod: 100,
  });
  t.teardown(() => client.end(true));
  const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  const json = (topic: string) =>
    messages
      .filter((m) => m.topic === topic && m.payload.length > 0)
      .map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  return { client, messages, json };
}

/** Publishes a package folder as deploy would (records, chunks, then the signed manifest). */
export async function publishPackage(t: T, url: string, key: TestKey, dir: string, version = 0) {
  const { ctx } = await deployOn(t, url, { quietMs: 60 });
  const files = await readPackage(dir, 16 * 1024, DEFAULT_LIMITS);
  return publishRelease(
    ctx,
    {
      channel: 'stable',
      model: 'student',
      version,
      minAgentVersion: '0.1.0',
      metrics: {},
      percent: 100,
      files,
    },
    key.key,
  );
}

export interface RunningAgent {
  service: AgentService;
  gpio: FakeGpio;
  log: ReturnType<typeof createMemoryLogger>;
  notified: string[][];
  played: string[];
}

/** An agent service for device dev-a on `url`, stopped when the test ends. */
export async function startAgent(
  t: T,
  stateDir: string,
  url: string,
  key: TestKey | undefined,
  argv: string[] = [],
  extra: Partial<ServiceContext> = {},
): Promise<RunningAgent> {
  if (resolve(stateDir).split(sep).join('/').includes('/.tap/fixtures/')) {
    // tap deletes a t.testdir() before the teardowns that stop this agent (see serviceDir).
    throw new Error(`state dir ${stateDir} is in a t.testdir(): use serviceDir(t) for an agent's folder`);
  }
  const config = testConfig(
    stateDir,
    [
      '--broker',
      url,
      '--reconnect-min-seconds',
      '0.1',
      '--reconnect-max-seconds',
      '1',
      '--timeout-seconds',
      String(scaledSeconds(5)),
      '--gpio-backend',
      'fake',
      '--gpio-recommend',
      '17',
      '--gpio-like',
      '27',
      '--gpio-debounce-ms',
      '10',
      '--backend',
      'wasm',
      ...argv,
    ],
    { BOOKREC_MQTT_PASSWORD: TEST_USERS['dev-a'], BOOKREC_TRUSTED_KEYS: key?.publicKey ?? '' },
  );
  const gpio = new FakeGpio();
  const log = createMemoryLogger('debug');
  const notified: string[][] = [];
  const played: string[] = [];
  const service = new AgentService({
    config,
    env: { NOTIFY_SOCKET: '/run/test-notify' },
    log,
    gpio,
    notify: async (args) => void notified.push(args),
    sink: { play: async (wav) => void played.push(wav) },
    receiver: { chunkTimeoutMs: 1000, maxAttempts: 5 },
    ...extra,
  });
  t.teardown(() => service.stop());
  await service.start();
  return { service, gpio, log, notified, played };
}
