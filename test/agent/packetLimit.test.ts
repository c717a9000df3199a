import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { scaled } from '../helpers/time.js';
import { agentProcess } from './agentProcess.js';
import { APP_USER, agentBroker, listener } from './harness.js';
import { waitFor } from './helpers.js';

/**
 * One 100 MB message on the agent's signals topic and another, retained, on its channel's manifest
 * topic, from a broker that lets them through (mosquitto with its packet limit raised to MQTT's maximum,
 * as a misconfigured broker or the old embedded one would): the agent, a `bookrec agent` process of its
 * own, drops both at their headers, acknowledges them, stays connected and keeps taking signals, and its
 * resident memory stays within 20 MB of what it was. Before, mqtt.js collected each packet whole:
 * ~90 MB became ~290 MB (the systemd unit's MemoryMax is 300M).
 */
const MB = 1024 * 1024;

t.test('100 MB messages leave the agent connected and its memory where it was', async (t) => {
  const broker = await agentBroker(t, ['max_packet_size 268435455']);
  const stateDir = join(await serviceDir(t), 'state');
  const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
  const ops = await listener(t, broker.url, 'deploy', [topic('status')]);
  const app = await listener(t, broker.url, APP_USER, []);
  const agent = agentProcess(t, ['--broker', broker.url, '--state-dir', stateDir], {
    BOOKREC_TRUSTED_KEYS: testKey().publicKey,
  });
  if (!agent) return;
  await waitFor('the agent online', () => ops.json(topic('status')).some((s) => s.state === 'online'));
  // A signal first, so the history file and everything a signal touches are warm before measuring. The
  // status says online before the agent has subscribed to its signals: send until one is stored.
  const signal = (bookId: number) => JSON.stringify({ bookId, kind: 'finished' });
  const history = join(stateDir, 'history.log');
  const stored = async (bookId: number) =>
    (await readFile(history, 'utf8').catch(() => '')).includes(`,${bookId},`);
  await waitFor('the first signal stored', async () => {
    await app.client.publishAsync(topic('signals'), signal(11), { qos: 1 });
    return (await stored(11)) || (await new Promise((r) => setTimeout(() => r(false), 200)));
  });
  const before = await agent.rssKiB();

  const huge = Buffer.alloc(100 * MB, 0x7b);
  await app.client.publishAsync(topic('signals'), huge, { qos: 1 });
  await ops.client.publishAsync('bookrec/fleet/stable/manifest', huge, { qos: 1, retain: true });
  t.teardown(() => ops.client.publishAsync('bookrec/fleet/stable/manifest', '', { qos: 1, retain: true }));
  const dropped = await waitFor(
    'both dropped',
    () =>
      (agent.log().match(/incoming message dropped: larger than the packet limit/g) ?? []).length >= 2 &&
      agent.log(),
    scaled(60_000),
  );
  t.match(
    dropped,
    /"topic":"bookrec\/devices\/dev-a\/signals","bytes":1048576\d\d/,
    'the signal, by topic and size',
  );
  t.match(dropped, /"topic":"bookrec\/fleet\/stable\/manifest"/, 'the manifest');
  // Still connected, and still taking signals after the flood.
  await app.client.publishAsync(topic('signals'), signal(12), { qos: 1 });
  await waitFor('a signal after them stored', () => stored(12));
  const after = await agent.rssKiB();
  t.ok(
    after - before < 20 * 1024,
    `RSS ${(before / 1024).toFixed(0)} MB before, ${(after / 1024).toFixed(0)} MB after (within 20 MB)`,
  );
  t.notOk(
    ops.json(topic('status')).some((s) => s.state === 'offline'),
    'the connection never dropped (no offline will)',
  );
  t.equal(agent.child.exitCode, null, 'the agent is still running');
});
