import mqtt, { type MqttClient } from 'mqtt';
import { buildConfig } from '../../common/config.js';
import { createMemoryLogger } from '../../common/log.js';
import type { ReceiverContext } from '../../common/protocol/receiver.js';
import type { TrustedKeys } from '../../common/protocol/signing.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { mqttTransport } from '../../common/protocol/transport.js';
import type { RolloutContext } from '../../deploy/channelState.js';
import { connectionSchema } from '../../deploy/connectionConfig.js';
import { connectDeploy, type DeployLink } from '../../deploy/link.js';
import type { PublishContext } from '../../deploy/publisher.js';
import { TEST_USERS } from './mosquitto.js';
import { testDevice } from './release.js';
import { scaled, scaledSeconds } from './time.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export type MqttVersion = '3.1.1' | '5';

/** deploy's link and the context its functions take, for a broker at `url`. */
export async function deployOn(
  t: Teardown,
  url: string,
  options: { user?: string; version?: MqttVersion; quietMs?: number; timeoutSeconds?: number } = {},
): Promise<{
  link: DeployLink;
  ctx: PublishContext & RolloutContext;
  log: ReturnType<typeof createMemoryLogger>;
}> {
  const user = options.user ?? 'deploy';
  const config = buildConfig(connectionSchema, {
    env: { BOOKREC_MQTT_PASSWORD: TEST_USERS[user] ?? '' },
    argv: [
      '--broker',
      url,
      '--username',
      user,
      '--mqtt-version',
      options.version ?? '3.1.1',
      '--timeout-seconds',
      String(scaledSeconds(options.timeoutSeconds ?? 5)),
      '--quiet-ms',
      String(options.quietMs ?? 100),
    ],
  });
  const log = createMemoryLogger('info');
  const link = await connectDeploy(config, log);
  t.teardown(() => link.close());
  const ctx: PublishContext & RolloutContext = {
    transport: link,
    topics: new TopicMap(),
    log,
    retained: { quietMs: config.broker.quietMs, timeoutMs: scaled(5000) },
    inFlight: 8,
    maxChunksPerSecond: 0,
    keys: new Map(),
    persist: () => link.persist(),
  };
  return { link, ctx, log };
}

/** A device on a real broker: an mqtt.js client (its username is its id) and a receiver on it. */
export async function deviceOn(
  t: Teardown,
  url: string,
  keys: TrustedKeys,
  options: { user?: string; version?: MqttVersion } & Partial<ReceiverContext> = {},
): Promise<ReturnType<typeof testDevice> & { client: MqttClient }> {
  const user = options.user ?? 'dev-a';
  const client = await mqtt.connectAsync(url, {
    username: user,
    password: TEST_USERS[user],
    clientId: `${user}-${Math.random().toString(16).slice(2, 8)}`,
    protocolVersion: options.version === '5' ? 5 : 4,
    reconnectPeriod: 100,
    connectTimeout: 5000,
  });
  const device = testDevice(mqttTransport(client, { timeoutMs: scaled(5000) }), keys, {
    deviceId: user,
    chunkTimeoutMs: 1000,
    maxAttempts: 10,
    ...options,
  });
  await device.receiver.start();
  t.teardown(async () => {
    await device.receiver.stop();
    client.end(true);
  });
  return { ...device, client };
}
