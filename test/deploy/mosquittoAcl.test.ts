import { readFile } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { defaultConfigDir } from '../../deploy/mosquittoProcess.js';
import { connectAs, mosquitto, untilMarker } from '../helpers/mosquitto.js';

/**
 * The retained message on `topic` as a new subscriber gets it: exactly one (the last accepted), so a
 * forged publish that got through would be it.
 */
async function retained(client: MqttClient, topic: string): Promise<string> {
  const got = await untilMarker(client, [topic], topic, async () => undefined);
  return got[0][1];
}

t.test('the production config has TLS, no anonymous access, the ACL and persistence', async (t) => {
  const conf = await readFile(`${defaultConfigDir()}/mosquitto.conf`, 'utf8');
  const lines = conf.split('\n').map((l) => l.trim());
  for (const line of [
    'allow_anonymous false',
    'listener 8883',
    'persistence true',
    'per_listener_settings false',
  ]) {
    t.ok(lines.includes(line), line);
  }
  for (const key of ['cafile', 'certfile', 'keyfile', 'password_file', 'acl_file', 'tls_version']) {
    t.ok(
      lines.some((l) => l.startsWith(`${key} `)),
      `${key} set`,
    );
  }
  t.notOk(
    lines.some((l) => /^listener \d+$/.test(l) && l !== 'listener 8883'),
    'no other listener open to the network',
  );
  const maxPacket = Number(/^max_packet_size (\d+)/m.exec(conf)?.[1]);
  t.ok(maxPacket > 128 * 1024 && maxPacket <= 1024 * 1024, 'packets fit a 128 KiB chunk and little more');
  const bridge = await readFile(`${defaultConfigDir()}/bridge.conf`, 'utf8');
  t.match(bridge, /bridge_cafile/, 'the bridge uses TLS');
  t.match(bridge, /topic bookrec\/releases\/# in 1/);
});

t.test('the ACL is enforced by a real mosquitto', async (t) => {
  const broker = await mosquitto(t);
  const deploy = await connectAs(t, broker.url, 'deploy', { protocolVersion: 5 });
  const devA = await connectAs(t, broker.url, 'dev-a', { protocolVersion: 5 });
  const devB = await connectAs(t, broker.url, 'dev-b', { protocolVersion: 5 });
  const devA311 = await connectAs(t, broker.url, 'dev-a', { protocolVersion: 4 });

  await t.test('no login, or a wrong password: refused', async (t) => {
    for (const options of [
      {},
      { username: 'dev-a', password: 'wrong' },
      { username: 'nobody', password: 'x' },
    ]) {
      await t.rejects(
        mqtt.connectAsync(broker.url, { ...options, reconnectPeriod: 0, connectTimeout: 3000 }),
        /Not authorized|Bad username or password/,
        JSON.stringify(options),
      );
    }
  });

  await deploy.publishAsync('bookrec/fleet/stable/manifest', 'from-deploy', { qos: 1, retain: true });

  await t.test('devices read manifests and chunks; only deploy writes them', async (t) => {
    t.equal(
      await retained(devA, 'bookrec/fleet/stable/manifest'),
      'from-deploy',
      'a device reads the manifest',
    );
    for (const topic of ['bookrec/fleet/stable/manifest', 'bookrec/releases/stable/9/0/0']) {
      await t.rejects(
        devA.publishAsync(topic, 'evil', { qos: 1, retain: true }),
        { message: /Not authorized/ },
        `MQTT 5: ${topic} refused with a reason code`,
      );
    }
    // MQTT 3.1.1 has no negative acknowledgement: the broker drops the message silently.
    await devA311.publishAsync('bookrec/fleet/stable/manifest', 'evil-311', { qos: 1, retain: true });
    t.equal(
      await retained(devB, 'bookrec/fleet/stable/manifest'),
      'from-deploy',
      'the retained manifest is still deploy’s',
    );
  });

  await t.test('a device writes only its own device topics', async (t) => {
    // The marker: dev-a's own status again, from the 3.1.1 connection right after its dropped forgery.
    const got = await untilMarker(
      deploy,
      ['bookrec/devices/+/status'],
      'bookrec/devices/dev-a/status',
      async () => {
        await t.rejects(
          devA.publishAsync('bookrec/devices/dev-b/status', 'forged', { qos: 1, retain: true }),
          {
            message: /Not authorized/,
          },
        );
        await devA311.publishAsync('bookrec/devices/dev-b/status', 'forged-311', { qos: 1, retain: true });
        await devA311.publishAsync('bookrec/devices/dev-a/status', 'mine', { qos: 1, retain: true });
      },
    );
    t.same(got, [['bookrec/devices/dev-a/status', 'mine']], 'deploy sees only dev-a’s own status');
  });

  await t.test('a device reads only its own commands', async (t) => {
    const onA: string[] = [];
    const onB: string[] = [];
    devA.on('message', (topic) => onA.push(topic));
    devB.on('message', (topic) => onB.push(topic));
    // mosquitto grants the subscription but never delivers what the ACL does not let the client read.
    await devA.subscribeAsync('bookrec/devices/+/commands', { qos: 1 });
    await devB.subscribeAsync('bookrec/devices/dev-b/commands', { qos: 1 });
    const gotA = untilMarker(devA, [], 'bookrec/devices/dev-a/commands', async () => undefined);
    const gotB = untilMarker(devB, [], 'bookrec/devices/dev-b/commands', async () => undefined);
    await deploy.publishAsync('bookrec/devices/dev-b/commands', '{"cmd":"recommend"}', { qos: 1 });
    // The marker for dev-a: its own command, sent after dev-b's on the same connection.
    await deploy.publishAsync('bookrec/devices/dev-a/commands', '{"cmd":"status"}', { qos: 1 });
    await Promise.all([gotA, gotB]);
    t.same(onB, ['bookrec/devices/dev-b/commands'], 'dev-b gets its command');
    t.same(onA, ['bookrec/devices/dev-a/commands'], 'dev-a gets only its own, not dev-b’s');
    await t.rejects(devA.publishAsync('bookrec/devices/dev-b/commands', 'x', { qos: 1 }), {
      message: /Not authorized/,
    });
  });
});
