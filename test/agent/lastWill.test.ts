import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { reportContract, statusContract } from '../../common/protocol/status.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { fleetSnapshot, readFleet } from '../../deploy/fleet.js';
import { failureShare } from '../../deploy/rollout.js';
import { deployOn } from '../helpers/deployHarness.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentProcess } from './agentProcess.js';
import { agentBroker, listener, publishPackage } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * A `bookrec agent` process killed with SIGKILL right after it installed a release: the broker publishes
 * its last will, which was fixed when the agent connected (before the install). The will says offline and
 * nothing else, so it cannot claim the old version; the fleet view and the rollout abort rule take the
 * model and the last update from the report (the last full status, which no will replaces): the device
 * shows offline on version 2, installed. Before, the will was the full status as it was at connect time:
 * no model at all, lastUpdate null, and the abort rule did not count the device.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test('kill -9 right after an install: offline, on the version it installed', async (t) => {
  const dir = await serviceDir(t);
  const broker = await agentBroker(t);
  const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
  const ops = await listener(t, broker.url, 'deploy', [topic('status'), topic('report')]);
  const args = ['--broker', broker.url, '--state-dir', join(dir, 'state')];
  const env = { BOOKREC_TRUSTED_KEYS: signer.publicKey };
  const agent = agentProcess(t, args, env);
  if (!agent) return;
  await waitFor('online', () => ops.json(topic('status')).some((s) => s.state === 'online'));
  const v1 = await makePackage(join(dir, 'v1'), { n: 40, seed: 1 });
  await publishPackage(t, broker.url, signer, v1.dir, 1);
  const v2 = await makePackage(join(dir, 'v2'), { n: 40, seed: 2 });
  const manifest = await publishPackage(t, broker.url, signer, v2.dir, 2);
  const installed = (s: Record<string, unknown>) =>
    (s.lastUpdate as { version?: number; result?: string } | null)?.version === 2;
  await waitFor('v2 installed (report)', () => ops.json(topic('report')).some(installed), 60_000);
  await agent.kill();

  const will = await waitFor('the last will', () =>
    ops.json(topic('status')).find((s) => s.state === 'offline'),
  );
  t.same(
    will,
    { schema: 1, deviceId: 'dev-a', state: 'offline', connectionLost: true },
    'the will claims nothing',
  );
  t.ok(statusContract.is(will), 'the will fits the status contract');
  const report = ops.json(topic('report')).at(-1);
  t.ok(reportContract.is(report), 'the report is a full status');

  const { ctx } = await deployOn(t, broker.url);
  const view = await fleetSnapshot(ctx.transport, new TopicMap(), ctx.retained);
  const [device] = view.list();
  t.match(device, {
    deviceId: 'dev-a',
    state: 'offline',
    will: true,
    model: { version: 2 },
    lastUpdate: { version: 2, result: 'installed' },
  });
  const table = (await readFleet(ctx.transport, new TopicMap(), ctx.retained)).render(new Date(), 86_400_000);
  t.match(table, /dev-a\s+offline\s+.*\bstable\s+student@2\b/, 'the fleet table shows the version it runs');
  t.match(await failureShare(ctx, manifest), { installed: 1, failed: 0 }, 'the abort rule counts it');

  // Started again: it says where it is, including the update it made before the kill.
  const again = agentProcess(t, args, env);
  if (!again) return;
  const back = await waitFor('online again', () =>
    ops
      .json(topic('status'))
      .slice(ops.json(topic('status')).indexOf(will))
      .find((s) => s.state === 'online'),
  );
  t.match(back, { model: { version: 2 }, lastUpdate: { version: 2, result: 'installed' } });
});
