import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import t from 'tap';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { readChannelState } from '../../deploy/channelState.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { buildPages } from '../../serve/webBuild.js';
import { launchChromium, screenshot } from '../helpers/browser.js';
import { deployOn } from '../helpers/deployHarness.js';
import { connectAs, mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { fixturePackage, postJson, startServe, testRoot, waitFor } from './harness.js';

const signer = testKey();
// As `openssl rand -hex 32` makes one: the server refuses a weak token.
const TOKEN = '5be0c7a2f49d13e86a0b2c5f7e91d4a3c6b8e02f5a7d9c1b3e4f60a2d8c7b915';

function status(deviceId: string, state: 'online' | 'offline', version: number) {
  const at = new Date().toISOString();
  return JSON.stringify({
    schema: 1,
    deviceId,
    state,
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'student', version },
    lastUpdate: { channel: 'stable', version, result: 'installed', at },
    uptimeSeconds: 12,
    at,
  });
}

/** A device as the broker sees it: a retained online status, and a last will that says offline. */
async function device(
  t: Parameters<typeof connectAs>[0],
  url: string,
  id: string,
  version: number,
): Promise<MqttClient> {
  const client = await connectAs(t, url, id, {
    will: {
      topic: `bookrec/devices/${id}/status`,
      payload: Buffer.from(status(id, 'offline', version)),
      qos: 1,
      retain: true,
    },
  });
  await client.publishAsync(`bookrec/devices/${id}/status`, status(id, 'online', version), {
    qos: 1,
    retain: true,
  });
  return client;
}

const release = async (dir: string, version: number, percent: number) => ({
  channel: 'stable',
  model: 'student',
  version,
  minAgentVersion: '0.1.0',
  metrics: {},
  percent,
  files: await readPackage(dir, 16 * 1024, DEFAULT_LIMITS),
});

t.test(
  'the fleet dashboard: live devices, releases and acceptance; offline shown; actions need the token',
  async (t) => {
    const broker = await mosquitto(t);
    const { ctx } = await deployOn(t, broker.url);
    const pkg = await fixturePackage(t);
    await publishRelease(ctx, await release(pkg, 1, 100), signer.key);
    await publishRelease(ctx, await release(pkg, 2, 20), signer.key);
    const keyFile = join(testRoot(t), 'deploy-key.pem');
    await writeFile(keyFile, signer.key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const web = join(testRoot(t), 'web');
    await buildPages(web);
    const { url } = await startServe(
      t,
      ['--fleet', '--broker', broker.url, '--username', 'deploy', '--key-file', keyFile, '--web-dir', web],
      { BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy, BOOKREC_FLEET_TOKEN: TOKEN },
    );

    const a = await device(t, broker.url, 'dev-a', 2);
    const b = await device(t, broker.url, 'dev-b', 1);
    await a.publishAsync(
      'bookrec/devices/dev-a/counters',
      JSON.stringify({
        format: 1,
        deviceId: 'dev-a',
        windowSeconds: 900,
        versions: [
          {
            channel: 'stable',
            version: 1,
            recommendations: 40,
            accepted: 10,
            liked: 4,
            started: 4,
            finished: 2,
            skipped: 9,
            open: 0,
          },
          {
            channel: 'stable',
            version: 2,
            recommendations: 30,
            accepted: 12,
            liked: 6,
            started: 4,
            finished: 2,
            skipped: 3,
            open: 1,
          },
        ],
        at: new Date().toISOString(),
      }),
      { qos: 1, retain: true },
    );

    const browser = await launchChromium(t);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/fleet/`);
    await page.waitForSelector('tr[data-device-id="dev-a"][data-state="online"]');
    await page.waitForSelector('tr[data-device-id="dev-b"][data-state="online"]');
    await page.waitForSelector('#chart rect[data-version="2"]');
    t.match(await page.textContent('tr[data-channel="stable"]'), /stable\s*student\s*2\s*20%/);
    t.match(
      await page.textContent('tr[data-device-id="dev-a"]'),
      /dev-a\s*online\s*stable\s*2\s*installed v2/,
    );
    t.match(await page.textContent('#quality'), /stable@2\s*1\s*30\s*12\s*3\s*40\.0%/);
    t.match(await page.textContent('#summary'), /2 devices: 2 online, 0 offline; 1 channels/);
    t.comment(`screenshot: ${await screenshot(page, 'fleet-live')}`);

    // An update under way shows as dev-a's install state (events are not retained: live only).
    await a.publishAsync(
      'bookrec/devices/dev-a/events',
      JSON.stringify({
        schema: 1,
        deviceId: 'dev-a',
        kind: 'update',
        phase: 'progress',
        channel: 'stable',
        version: 3,
        reason: '50%',
        at: new Date(Date.now() + 1000).toISOString(),
      }),
      { qos: 1 },
    );
    await page.waitForSelector('tr[data-device-id="dev-a"] >> text=progress v3');

    // dev-b drops off the network: the broker publishes its last will, and the page follows.
    (b.stream as { destroy(): void }).destroy();
    await page.waitForSelector('tr[data-device-id="dev-b"][data-state="offline"]');
    t.match(await page.textContent('#summary'), /2 devices: 1 online, 1 offline/);
    t.comment(`screenshot: ${await screenshot(page, 'fleet-offline')}`);

    // Actions: refused without the token, done with it.
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
    for (const [path, body] of [
      ['/v1/fleet/rollout', { channel: 'stable', percent: 100 }],
      ['/v1/fleet/rollback', { channel: 'stable' }],
      ['/v1/fleet/forget', { deviceId: 'dev-b' }],
    ] as const) {
      t.match(
        await post(path, body),
        { status: 401, json: { error: { code: 'UNAUTHORIZED' } } },
        `${path} without a token`,
      );
      t.match(await post(path, body, 'wrong'), { status: 401 }, `${path} with a wrong token`);
    }
    t.match(await post('/v1/fleet/rollout', { channel: 'stable', percent: 150 }, TOKEN), {
      status: 400,
      json: { error: { problems: ['percent must be a number 0..100'] } },
    });
    const state = await readChannelState(ctx, 'stable');
    t.equal(state.current?.rollout.percent, 20, 'nothing changed without the token');

    // The page's own button, with the token typed in.
    await page.fill('#token', TOKEN);
    await page.fill('tr[data-channel="stable"] input.percent', '50');
    await page.click('tr[data-channel="stable"] button:text("Set rollout")');
    await page.waitForSelector('tr[data-channel="stable"] >> text=50%');
    t.equal(
      (await readChannelState(ctx, 'stable')).current?.rollout.percent,
      50,
      'the signed manifest says 50%',
    );

    t.match(await post('/v1/fleet/rollback', { channel: 'stable' }, TOKEN), {
      status: 200,
      json: { version: 1 },
    });
    await page.waitForSelector('tr[data-channel="stable"] >> text=(rollback)');
    t.match(await post('/v1/fleet/rollback', { channel: 'stable' }, TOKEN), {
      status: 409,
      json: { error: { code: 'NO_PREVIOUS' } },
    });
    t.match(await post('/v1/fleet/forget', { deviceId: 'dev-b' }, TOKEN), { status: 200 });
    await waitFor(
      async () => (await page.$('tr[data-device-id="dev-b"]')) === null,
      'dev-b gone from the page',
    );
    const snapshot = (await (await fetch(`${url}/v1/fleet/state`)).json()) as {
      devices: { deviceId: string }[];
    };
    t.same(
      snapshot.devices.map((d) => d.deviceId),
      ['dev-a'],
    );
    t.comment(`screenshot: ${await screenshot(page, 'fleet-after-actions')}`);
    t.same(errors, [], 'no page errors');
  },
);

t.test('without a configured token the dashboard is read-only', async (t) => {
  const broker = await mosquitto(t);
  const { url } = await startServe(t, ['--fleet', '--broker', broker.url, '--username', 'deploy'], {
    BOOKREC_MQTT_PASSWORD: TEST_USERS.deploy,
  });
  const r = await postJson(`${url}/v1/fleet/rollout`, { channel: 'stable', percent: 50 });
  t.equal(r.status, 403);
  t.match(r.json, { error: { code: 'READ_ONLY', message: /set BOOKREC_FLEET_TOKEN/ } });
  const s = (await (await fetch(`${url}/v1/fleet/state`)).json()) as { actions: boolean };
  t.equal(s.actions, false);
  const rec = await postJson(`${url}/v1/recommend`, { history: [] });
  t.match(
    rec,
    { status: 503, json: { error: { code: 'NOT_READY' } } },
    'a dashboard-only server has no model',
  );
});

t.test('beyond loopback the page asks for the token before it shows the fleet', async (t) => {
  const web = join(testRoot(t), 'web');
  await buildPages(web);
  // No broker behind it (nothing listens on port 1): an empty fleet is enough to see the page unlock.
  const { url } = await startServe(
    t,
    [
      '--fleet',
      '--host',
      '0.0.0.0',
      '--broker',
      'mqtt://127.0.0.1:1',
      '--username',
      'deploy',
      '--web-dir',
      web,
    ],
    { BOOKREC_FLEET_TOKEN: TOKEN },
  );
  const browser = await launchChromium(t);
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${url.replace('0.0.0.0', '127.0.0.1')}/fleet/`);
  await page.waitForSelector('#live >> text=locked');
  t.match(await page.textContent('#mode'), /needs the operator token/);
  t.not(await page.getAttribute('body', 'data-state'), 'live', 'nothing shown without it');
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Tab');
  await page.waitForSelector('body[data-state="live"]');
  t.match(await page.textContent('#summary'), /0 devices/);
});
