import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  type MosquittoBroker,
  type MosquittoOptions,
  startMosquitto,
} from '../../deploy/mosquittoProcess.js';

/** Test identities: the ACL's deploy and bridge users, and devices whose username is their id. */
export const TEST_USERS: Record<string, string> = {
  deploy: 'deploy-pw',
  bridge: 'bridge-pw',
  'dev-a': 'dev-a-pw',
  'dev-b': 'dev-b-pw',
  'dev-c': 'dev-c-pw',
  homeassistant: 'homeassistant-pw',
};

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A real mosquitto with the project's production config and ACL on a free loopback port, stopped and
 * its folder removed when the test ends. Fails (never skips) when mosquitto is not installed.
 */
export async function mosquitto(
  t: Teardown,
  options: Partial<MosquittoOptions> = {},
): Promise<MosquittoBroker> {
  const broker = await startMosquitto({ ...options, users: { ...TEST_USERS, ...options.users } });
  t.teardown(() => broker.stop());
  return broker;
}

/** A connected mqtt.js client for one of TEST_USERS, ended when the test ends. */
export async function connectAs(
  t: Teardown,
  url: string,
  user: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    username: user,
    password: TEST_USERS[user],
    clientId: `${user}-${Math.random().toString(16).slice(2, 8)}`,
    reconnectPeriod: 200,
    connectTimeout: 5000,
    ...options,
  });
  t.teardown(() => client.end(true));
  return client;
}
