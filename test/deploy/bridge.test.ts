import t from 'tap';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { fleetSnapshot } from '../../deploy/fleet.js';
import { loopbackBridge } from '../../deploy/mosquittoProcess.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { APP_USER, agentBroker, listener } from '../agent/harness.js';
import { waitFor } from '../agent/helpers.js';
import { deployOn, deviceOn } from '../helpers/deployHarness.js';
import { connectAs, mosquitto, TEST_USERS, testSitesAcl } from '../helpers/mosquitto.js';
import { bytes, packageDir, testKey } from '../helpers/release.js';

const signer = testKey();

t.test('a device on an edge broker receives and verifies a release published to the core', async (t) => {
  // The core with the production ACL plus a local-apps user that may read recommendations.
  // The edge bridges as site-a, whose devices (dev-c among them) the core's ACL lists.
  const core = await agentBroker(t, [], await testSitesAcl());
  const apps = await listener(t, core.url, APP_USER, ['bookrec/devices/+/recommendations']);
  const edge = await mosquitto(t, {
    extra: await loopbackBridge(core.port, { username: 'site-a', password: TEST_USERS['site-a'] }),
  });
  const { ctx } = await deployOn(t, core.url);
  const dir = await packageDir(t, [{ name: 'weights.bin', data: bytes(200_000, 9) }]);
  const files = await readPackage(dir, 16 * 1024, DEFAULT_LIMITS);
  const manifest = await publishRelease(
    ctx,
    {
      channel: 'stable',
      model: 'student',
      version: 0,
      minAgentVersion: '0.1.0',
      metrics: {},
      percent: 100,
      files,
    },
    signer.key,
  );

  // A device that joins the edge after the release: it needs the edge to hold the release retained.
  const device = await deviceOn(t, edge.url, signer.keys, { user: 'dev-c' });
  t.match(await device.outcome(15_000), { type: 'complete', version: manifest.version });
  t.ok(device.installed[0].files[0].data.equals(bytes(200_000, 9)), 'verified and intact');

  // Device reports flow out to the core, where the fleet view reads them.
  const status = {
    schema: 1,
    deviceId: 'dev-c',
    state: 'online',
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'student', version: manifest.version },
    lastUpdate: null,
    uptimeSeconds: 5,
    at: new Date().toISOString(),
  };
  await device.client.publishAsync('bookrec/devices/dev-c/status', JSON.stringify(status), {
    qos: 1,
    retain: true,
  });
  // Polled until the status has crossed the bridge (each look is a real read of the core's retained state).
  const view = await waitFor('the status at the core', async () => {
    const v = await fleetSnapshot(ctx.transport, ctx.topics, ctx.retained);
    return v.size > 0 && v;
  });
  t.match(view.list(), [{ deviceId: 'dev-c', state: 'online', model: { channel: 'stable', version: 1 } }]);
  t.match(view.summary(), /1 device \(1 online, 0 offline\); stable\/student@1: 1/);

  // A recommendation on the edge stays there: it is derived from the listener's history. Sent before a
  // status marker on the same bridge, so once the marker is at the core it would be too, if bridged.
  await device.client.publishAsync('bookrec/devices/dev-c/recommendations', '{"books":[]}', { qos: 1 });
  await device.client.publishAsync(
    'bookrec/devices/dev-c/status',
    JSON.stringify({ ...status, uptimeSeconds: 77 }),
    {
      qos: 1,
      retain: true,
    },
  );
  const marked = await waitFor('the status marker at the core', async () => {
    const seen = await fleetSnapshot(ctx.transport, ctx.topics, ctx.retained);
    return seen.list()[0]?.uptimeSeconds === 77 && seen;
  });
  t.equal(marked.list()[0]?.uptimeSeconds, 77);
  t.same(apps.messages, [], 'no recommendation crossed the bridge');

  // The edge enforces the same ACL on its own devices: dev-c cannot publish a manifest there.
  const v5 = await connectAs(t, edge.url, 'dev-c', { protocolVersion: 5 });
  await t.rejects(v5.publishAsync('bookrec/fleet/stable/manifest', 'x', { qos: 1 }), /Not authorized/);
});
