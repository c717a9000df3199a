import t from 'tap';
import { siteAcl } from '../../deploy/mosquittoProcess.js';
import { connectAs, mosquitto, untilMarker } from '../helpers/mosquitto.js';

/**
 * Edge sites on a real mosquitto with the shipped ACL and two sites rendered from its template: site-a
 * (dev-a, dev-c) and site-b (dev-b). Each site's bridge user may write only its own devices' reports and
 * read only their commands, so one compromised edge cannot forge another site's status or counters (a
 * rollout abort, an acceptance figure) or read its commands. Absences are shown by a marker message sent
 * after the one that must not arrive, on the same connection.
 */

t.test('each edge site reaches only its own devices', async (t) => {
  // dev-c is added to site-a later, as docs/protocol.md says to: a second block for the same user, appended.
  const aclExtra = [
    ...(await siteAcl('site-a', ['dev-a'])),
    ...(await siteAcl('site-b', ['dev-b'])),
    ...(await siteAcl('site-a', ['dev-c'])),
  ];
  const broker = await mosquitto(t, { aclExtra });
  const deploy = await connectAs(t, broker.url, 'deploy', { protocolVersion: 5 });
  const siteA = await connectAs(t, broker.url, 'site-a', { protocolVersion: 5 });
  // The shipped bridge.conf speaks MQTT 3.1.1: a refused publish is dropped without an answer.
  const siteA311 = await connectAs(t, broker.url, 'site-a', { protocolVersion: 4 });

  await t.test('site-a cannot publish dev-b’s status or counters, and can its own', async (t) => {
    for (const topic of ['bookrec/devices/dev-b/status', 'bookrec/devices/dev-b/counters']) {
      await t.rejects(
        siteA.publishAsync(topic, '{"forged":true}', { qos: 1, retain: true }),
        { message: /Not authorized/ },
        `${topic} refused (MQTT 5)`,
      );
    }
    const got = await untilMarker(
      deploy,
      ['bookrec/devices/+/status', 'bookrec/devices/+/counters'],
      'bookrec/devices/dev-c/counters',
      async () => {
        await siteA.publishAsync('bookrec/devices/dev-a/status', 'own-status', { qos: 1, retain: true });
        await siteA311.publishAsync('bookrec/devices/dev-b/status', 'forged-311', { qos: 1, retain: true });
        await siteA311.publishAsync('bookrec/devices/dev-b/counters', 'forged-311', { qos: 1, retain: true });
        await siteA311.publishAsync('bookrec/devices/dev-c/counters', 'own-counters', {
          qos: 1,
          retain: true,
        });
      },
    );
    t.same(
      got,
      [
        ['bookrec/devices/dev-a/status', 'own-status'],
        ['bookrec/devices/dev-c/counters', 'own-counters'],
      ],
      'deploy sees site-a’s own devices only',
    );
  });

  await t.test('site-a reads its own devices’ commands, never dev-b’s', async (t) => {
    const got = await untilMarker(
      siteA311,
      ['bookrec/devices/+/commands'],
      'bookrec/devices/dev-a/commands',
      async () => {
        await deploy.publishAsync('bookrec/devices/dev-b/commands', '{"cmd":"for-b"}', { qos: 1 });
        await deploy.publishAsync('bookrec/devices/dev-a/commands', '{"cmd":"for-a"}', { qos: 1 });
      },
    );
    t.same(got, [['bookrec/devices/dev-a/commands', '{"cmd":"for-a"}']], 'only dev-a’s command');
  });

  await t.test('site-a announces Home Assistant configs for its own devices only', async (t) => {
    await t.resolves(siteA.publishAsync('homeassistant/device/dev-a/config', '{}', { qos: 1 }));
    await t.rejects(siteA.publishAsync('homeassistant/device/dev-b/config', '{}', { qos: 1 }), {
      message: /Not authorized/,
    });
  });

  await t.test('a site reads manifests and releases and publishes none', async (t) => {
    await deploy.publishAsync('bookrec/fleet/stable/manifest', 'from-deploy', { qos: 1, retain: true });
    const got = await untilMarker(
      siteA,
      ['bookrec/fleet/+/manifest'],
      'bookrec/fleet/stable/manifest',
      async () => undefined,
    );
    t.same(got, [['bookrec/fleet/stable/manifest', 'from-deploy']]);
    for (const topic of ['bookrec/fleet/stable/manifest', 'bookrec/releases/stable/9/0/0']) {
      await t.rejects(siteA.publishAsync(topic, 'evil', { qos: 1 }), { message: /Not authorized/ }, topic);
    }
  });

  await t.test('site-b is held to its own device the same way', async (t) => {
    const siteB = await connectAs(t, broker.url, 'site-b', { protocolVersion: 5 });
    await t.resolves(siteB.publishAsync('bookrec/devices/dev-b/status', '{}', { qos: 1 }));
    await t.rejects(siteB.publishAsync('bookrec/devices/dev-a/status', '{}', { qos: 1 }), {
      message: /Not authorized/,
    });
  });

  await t.test(
    'the old shared "bridge" identity writes no device’s reports and reads no commands',
    async (t) => {
      const bridge = await connectAs(t, broker.url, 'bridge', { protocolVersion: 5 });
      for (const topic of ['bookrec/devices/dev-b/status', 'bookrec/devices/dev-b/counters']) {
        await t.rejects(
          bridge.publishAsync(topic, 'forged', { qos: 1, retain: true }),
          { message: /Not authorized/ },
          topic,
        );
      }
      // Every client may read manifests: one sent after the command is the marker.
      const got = await untilMarker(
        bridge,
        ['bookrec/devices/+/commands', 'bookrec/fleet/marker/manifest'],
        'bookrec/fleet/marker/manifest',
        async () => {
          await deploy.publishAsync('bookrec/devices/dev-b/commands', '{"cmd":"for-b"}', { qos: 1 });
          await deploy.publishAsync('bookrec/fleet/marker/manifest', 'marker', { qos: 1 });
        },
      );
      t.same(got, [['bookrec/fleet/marker/manifest', 'marker']], 'no command reached it');
    },
  );
});

t.test('a site or device name that could widen an ACL line is refused', async (t) => {
  for (const bad of ['site/#', '+', 'a b', '']) {
    await t.rejects(siteAcl(bad, ['dev-a']), { code: 'INVALID_NAME' }, JSON.stringify(bad));
    await t.rejects(siteAcl('site-a', [bad]), { code: 'INVALID_NAME' }, `device ${JSON.stringify(bad)}`);
  }
  t.same(await siteAcl('site-z', ['k1']), [
    'user site-z',
    'topic write bookrec/devices/k1/#',
    'topic read bookrec/devices/k1/commands',
    'topic write homeassistant/device/k1/config',
  ]);
});
