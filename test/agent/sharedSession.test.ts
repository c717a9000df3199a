import { join } from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { agentClientId } from '../../agent/mqttLink.js';
import { useBackend } from '../../common/model/backend.js';
import { withTimeout } from '../../common/protocol/transport.js';
import { TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { scaled } from '../helpers/time.js';
import { agentBroker, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * Issue 21 item 3: the device's persistent MQTT session is shared by whoever connects with its client
 * id. A second process with the same id (a second agent started by hand) took the session, unsubscribed
 * the manifest topic as it exited, and the running agent reconnected to a session without it: the
 * broker said "session present", mqtt.js resubscribes only when it is not, and the agent never heard of
 * a release again. The link now renews its subscriptions on every reconnect.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

const MANIFEST = 'bookrec/fleet/stable/manifest';

for (const version of ['3.1.1', '5'] as const) {
  t.test(`MQTT ${version}: a session unsubscribed by another process is renewed on reconnect`, async (t) => {
    const dir = await serviceDir(t);
    const broker = await agentBroker(t);
    const v1 = await makePackage(join(dir, 'v1'), { n: 30, seed: 1 });
    const v2 = await makePackage(join(dir, 'v2'), { n: 30, seed: 2 });
    const agent = await startAgent(t, join(dir, 'state'), broker.url, signer, ['--mqtt-version', version]);
    const installed = (v: number) => agent.service.store.current?.release.version === v;
    // Installing v1 shows the agent subscribed before the other process comes.
    await publishPackage(t, broker.url, signer, v1.dir, 1);
    await waitFor('v1 installed', () => installed(1));

    const connects = () => agent.log.lines.filter((l) => l.msg === 'broker connected').length;
    const before = connects();
    // The other process: same client id, persistent session, unsubscribes and exits. The agent takes the
    // session back within ~100 ms (its reconnect delay); an attempt it interrupts is made again.
    let unsubscribed = false;
    for (let attempt = 0; attempt < 20 && !unsubscribed; attempt++) {
      const other = await mqtt.connectAsync(broker.url, {
        clientId: agentClientId('dev-a'),
        username: 'dev-a',
        password: TEST_USERS['dev-a'],
        clean: false,
        protocolVersion: version === '5' ? 5 : 4,
        properties: version === '5' ? { sessionExpiryInterval: 3600 } : undefined,
        reconnectPeriod: 0,
      });
      try {
        await withTimeout(other.unsubscribeAsync(MANIFEST), scaled(2000), 'unsubscribe');
        unsubscribed = true;
      } catch {
        // Taken over by the agent before the UNSUBSCRIBE: try again.
      } finally {
        await withTimeout(other.endAsync(), scaled(2000), 'end').catch(() => other.end(true));
      }
    }
    t.ok(unsubscribed, 'the other process unsubscribed the shared session');
    await waitFor('the agent back online', () => connects() > before && agent.service.link.online);

    await publishPackage(t, broker.url, signer, v2.dir, 2);
    await waitFor('v2 installed after the reconnect', () => installed(2));
    t.ok(installed(2), 'the new release reached the agent');
    t.ok(
      agent.log.lines.some((l) => l.msg === 'subscriptions renewed'),
      'the link renewed its subscriptions',
    );
  });
}
