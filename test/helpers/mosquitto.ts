import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  type MosquittoBroker,
  type MosquittoOptions,
  siteAcl,
  startMosquitto,
} from '../../deploy/mosquittoProcess.js';
import { scaled } from './time.js';

/**
 * Test identities: the ACL's deploy user, two edge site users (their devices: sites below), the
 * retired shared "bridge" user (no longer in the ACL), and devices whose username is their id.
 */
export const TEST_USERS: Record<string, string> = {
  deploy: 'deploy-pw',
  bridge: 'bridge-pw',
  'site-a': 'site-a-pw',
  'site-b': 'site-b-pw',
  'dev-a': 'dev-a-pw',
  'dev-b': 'dev-b-pw',
  'dev-c': 'dev-c-pw',
  homeassistant: 'homeassistant-pw',
};

/** The test edge sites and their devices (dev-c sits behind site-a's edge in test/deploy/bridge.test.ts). */
export const TEST_SITES: Record<string, string[]> = { 'site-a': ['dev-a', 'dev-c'], 'site-b': ['dev-b'] };

/** The core's ACL lines for TEST_SITES, rendered from the shipped acl's template. */
export async function testSitesAcl(): Promise<string[]> {
  const blocks = await Promise.all(Object.entries(TEST_SITES).map(([site, ids]) => siteAcl(site, ids)));
  return blocks.flat();
}

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

/**
 * Collects every message `client` receives on `filters` until one on `marker` arrives: the way an
 * absence is shown. The marker is sent after the message that must not arrive, on the same connection,
 * so the broker handles them in that order; a sleep would pass on a slow machine without proving it.
 * With no filters, the client's existing subscriptions are used.
 */
export async function untilMarker(
  client: MqttClient,
  filters: string[],
  marker: string,
  act: () => Promise<unknown>,
) {
  const got: [string, string][] = [];
  let onMessage: (topic: string, payload: Buffer) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no marker on ${marker}; got ${JSON.stringify(got)}`)),
      scaled(5000),
    );
    onMessage = (topic, payload) => {
      got.push([topic, payload.toString()]);
      if (topic === marker) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  client.on('message', onMessage);
  try {
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    await act();
    await done;
  } finally {
    client.off('message', onMessage);
    if (filters.length > 0) await client.unsubscribeAsync(filters);
  }
  return got;
}
