import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { packageDir } from '../helpers/release.js';

/**
 * The quality gate end to end on a real mosquitto with the production ACL: devices publish their
 * retained counters on devices/<id>/counters (constructed here, in the agent's format, as the agent
 * would), and `bookrec rollout` with the gate stops (and rolls back) a worse canary, holds on too
 * little data, and widens a better one; `bookrec fleet` shows the counters per version.
 */
t.before(() => useBackend('wasm'));

async function bookrec(args: string[]) {
  const { ctx, out, err } = testContext({ BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy });
  const code = await main(args, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

type Row = [version: number, recommendations: number, accepted: number, skipped?: number];

async function counters(device: MqttClient, id: string, rows: Row[]) {
  const versions = rows.map(([version, recommendations, accepted, skipped = 0]) => ({
    channel: 'stable',
    version,
    recommendations,
    accepted,
    liked: 0,
    started: accepted,
    finished: 0,
    skipped,
    open: 0,
  }));
  const payload = { format: 1, deviceId: id, windowSeconds: 604800, versions, at: new Date().toISOString() };
  await device.publishAsync(`bookrec/devices/${id}/counters`, JSON.stringify(payload), {
    qos: 1,
    retain: true,
  });
}

/** The channel's retained manifest as a device sees it. */
async function currentManifest(
  device: MqttClient,
): Promise<{ version: number; rollout: { percent: number } }> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic !== 'bookrec/fleet/stable/manifest') return;
      device.off('message', onMessage);
      void device.unsubscribeAsync(topic).then(() => resolve(JSON.parse(payload.toString())));
    };
    device.on('message', onMessage);
    void device.subscribeAsync('bookrec/fleet/stable/manifest', { qos: 1 });
  });
}

t.test('rollout with the quality gate: stop and roll back a worse canary, widen a better one', async (t) => {
  const broker = await mosquitto(t);
  const dir = await packageDir(t, []);
  const key = join(dir, 'deploy.pem');
  t.equal((await bookrec(['keys', '--key-file', key])).code, 0);
  const connection = ['--broker', broker.url, '--username', 'deploy', '--quiet-ms', '100'];
  const fast = [...connection, '--key-file', key, '--channel', 'stable'];
  const gate = ['--gate-margin', '0.02', '--gate-min-recommendations', '100'];
  // A model package as `bookrec train` writes it (publish checks it on the devices' code first).
  const pkg = (await makePackage(join(dir, 'student'), { n: 60, modelId: 'student' })).dir;
  t.equal((await bookrec(['publish', pkg, ...fast, '--percent', '100'])).code, 0, 'version 1 everywhere');
  t.equal((await bookrec(['publish', pkg, ...fast, '--percent', '10'])).code, 0, 'version 2 to 10%');
  const devA = await connectAs(t, broker.url, 'dev-a', { protocolVersion: 5 });
  const devB = await connectAs(t, broker.url, 'dev-b');
  const devC = await connectAs(t, broker.url, 'dev-c');

  await t.test('the ACL: a device writes its own counters only', async (t) => {
    await t.rejects(devA.publishAsync('bookrec/devices/dev-b/counters', '{}', { qos: 1, retain: true }), {
      message: /Not authorized/,
    });
    await t.resolves(devA.publishAsync('bookrec/devices/dev-a/counters', '', { qos: 1, retain: true }));
  });

  // The rest (version 1) accepts 40%; the canary (version 2) 20%.
  await counters(devA, 'dev-a', [[1, 1000, 400, 30]]);
  await counters(devB, 'dev-b', [[1, 1000, 400, 20]]);
  await counters(devC, 'dev-c', [
    [1, 50, 20],
    [2, 300, 60, 90],
  ]);

  await t.test('fleet shows online quality per version', async (t) => {
    const f = await bookrec(['fleet', ...connection]);
    t.equal(f.code, 0, f.err);
    t.match(f.out, /version\s+devices\s+recommendations\s+accepted\s+skipped\s+acceptance/);
    t.match(f.out, /stable@1\s+3\s+2050\s+820\s+50\s+40\.0%/);
    t.match(f.out, /stable@2\s+1\s+300\s+60\s+90\s+20\.0%/);
  });

  await t.test('a worse canary: widening stops, the decision and its numbers are printed', async (t) => {
    const r = await bookrec(['rollout', ...fast, '--percent', '50', ...gate]);
    t.equal(r.code, 1);
    t.match(r.out, /quality gate: stop \(difference -20\.0 points\)/);
    t.match(r.out, /canary: 1 device, 300 recommendations, 60 accepted, 90 skipped, rate 20\.0%/);
    t.match(r.out, /rest {2}: 3 devices, 2050 recommendations, 820 accepted, 50 skipped, rate 40\.0%/);
    t.match(r.err, /stopped at 10%: the canary recommends worse.*\[ROLLOUT_GATE_STOP\]/);
    t.match(await currentManifest(devB), { version: 2, rollout: { percent: 10 } }, 'still at 10%');
  });

  await t.test('too little data holds, then stops when the wait is over', async (t) => {
    const started = Date.now();
    const r = await bookrec([
      'rollout',
      ...fast,
      '--percent',
      '50',
      '--gate-margin',
      '0.02',
      '--gate-min-recommendations',
      '5000',
      '--gate-wait-seconds',
      '0.5',
      '--gate-poll-seconds',
      '0.1',
    ]);
    t.equal(r.code, 1);
    t.match(r.out, /quality gate: hold/);
    t.ok((r.out.match(/quality gate: hold/g) ?? []).length >= 2, 'judged again while waiting');
    t.match(r.err, /not enough evidence to widen within the wait: too little data.*\[ROLLOUT_GATE_HOLD\]/);
    t.ok(Date.now() - started >= 400, 'it waited');
  });

  await t.test('--gate-action rollback: a worse canary is rolled back', async (t) => {
    const r = await bookrec(['rollout', ...fast, '--percent', '50', ...gate, '--gate-action', 'rollback']);
    t.equal(r.code, 1);
    t.match(r.out, /quality gate: stop/);
    t.match(r.out, /stable rolled back to version 1/);
    t.match(await currentManifest(devB), { version: 1, rollout: { percent: 100 } });
  });

  await t.test('a better canary widens step by step', async (t) => {
    t.equal((await bookrec(['publish', pkg, ...fast, '--percent', '10'])).code, 0, 'version 3 to 10%');
    await counters(devC, 'dev-c', [
      [1, 50, 20],
      [3, 400, 220, 10],
    ]);
    const r = await bookrec([
      'rollout',
      ...fast,
      '--percent',
      '50',
      '--step',
      '20',
      '--step-wait-seconds',
      '0',
      ...gate,
    ]);
    t.equal(r.code, 0, r.err);
    t.equal((r.out.match(/quality gate: widen/g) ?? []).length, 2, 'judged before each of the two steps');
    t.match(r.out, /canary: 1 device, 400 recommendations, 220 accepted, 10 skipped, rate 55\.0%/);
    t.match(r.out, /stable version 3 now at 50%/);
    t.match(await currentManifest(devB), { version: 3, rollout: { percent: 50 } });
  });
});
