import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { deployOn } from '../helpers/deployHarness.js';
import { mosquitto, TEST_USERS } from '../helpers/mosquitto.js';
import { testKey } from '../helpers/release.js';
import { fixturePackage, postJson, startServe, waitFor } from './harness.js';

const signer = testKey();

const release = async (dir: string, version: number) => ({
  channel: 'stable',
  model: 'student',
  version,
  minAgentVersion: '0.1.0',
  metrics: {},
  percent: 100,
  files: await readPackage(dir, 16 * 1024, DEFAULT_LIMITS),
});

t.test(
  'following a channel like a device: verified, self-tested, swapped under load with no failed request',
  async (t) => {
    const broker = await mosquitto(t);
    const { ctx } = await deployOn(t, broker.url);
    const v1 = await fixturePackage(t, 'v1', 5);
    const v2 = await fixturePackage(t, 'v2', 6);
    const published = await publishRelease(ctx, await release(v1, 1), signer.key);

    const { url, service, log } = await startServe(
      t,
      [
        '--channel',
        'stable',
        '--trusted-keys',
        signer.publicKey,
        '--broker',
        broker.url,
        '--device-id',
        'dev-b',
      ],
      { BOOKREC_MQTT_PASSWORD: TEST_USERS['dev-b'] },
      { receiver: { chunkTimeoutMs: 1000 } },
    );
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'release 1 in service');
    t.match(await (await fetch(`${url}/v1/model`)).json(), {
      version: 1,
      from: 'channel',
      signed: { channel: 'stable' },
    });

    // The phone's mirror: the manifest exactly as signed, and the verified files.
    t.same(await (await fetch(`${url}/v1/package/signed-manifest.json`)).json(), published);
    const catalogue = await fetch(`${url}/v1/package/files/catalogue.json`);
    t.equal(catalogue.status, 200);
    t.same(Buffer.from(await catalogue.arrayBuffer()), await readFile(join(v1, 'catalogue.json')));
    const etag = catalogue.headers.get('etag')!;
    t.equal(
      (await fetch(`${url}/v1/package/files/catalogue.json`, { headers: { 'if-none-match': etag } })).status,
      304,
    );
    t.equal((await fetch(`${url}/v1/package/files/nope.bin`)).status, 404);

    // Readers keep asking while release 2 arrives.
    const statuses = new Map<number, number>();
    const versions: number[][] = [];
    let stop = false;
    const reader = async (k: number) => {
      const seen: number[] = [];
      versions.push(seen);
      while (!stop) {
        const { status, json } = await postJson(`${url}/v1/recommend`, {
          history: [{ bookId: 1000 + k, kind: 'finished' }],
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const v = (json.model as { version: number } | undefined)?.version;
        if (v !== undefined && seen[seen.length - 1] !== v) seen.push(v);
      }
    };
    const readers = [0, 1, 2, 3].map(reader);
    await waitFor(() => (statuses.get(200) ?? 0) > 20, 'answers from release 1');
    await publishRelease(ctx, await release(v2, 2), signer.key);
    await waitFor(() => versions.every((v) => v.includes(2)), 'every reader answered by release 2');
    const afterSwap = statuses.get(200)!;
    await waitFor(() => statuses.get(200)! > afterSwap + 20, 'answers after the swap');
    stop = true;
    await Promise.all(readers);
    t.same([...statuses.keys()], [200], `every request answered 200 (${statuses.get(200)} requests)`);
    t.same(
      versions,
      [
        [1, 2],
        [1, 2],
        [1, 2],
        [1, 2],
      ],
      'each reader saw 1 then 2, never back',
    );
    t.equal(service.slot.swaps, 1);

    // A release whose package does not check out (catalogue changed after its manifest was written) is
    // refused after download: release 2 stays in service.
    const bad = await fixturePackage(t, 'v3', 7);
    const cat = JSON.parse(await readFile(join(bad, 'catalogue.json'), 'utf8')) as { title: string }[];
    cat[0].title = 'Tampered';
    await writeFile(join(bad, 'catalogue.json'), JSON.stringify(cat));
    await publishRelease(ctx, await release(bad, 3), signer.key);
    await waitFor(() => log.lines.some((l) => l.msg === 'release failed'), 'the refusal of release 3');
    t.match(
      log.lines.find((l) => l.msg === 'release failed'),
      { code: 'INSTALL_FAILED', reason: /stable@3\/catalogue.json: \d+ bytes, the manifest says/ },
    );
    t.match(await (await fetch(`${url}/v1/model`)).json(), { version: 2 });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.match(metrics, /bookrec_release_events_total\{type="failed",code="INSTALL_FAILED"\} 1/);
    t.match(metrics, /bookrec_model_swaps_total 1/);
    t.match(
      metrics,
      /bookrec_http_requests_total\{route="\/v1\/recommend",method="POST",status="200",model_version="2"\}/,
    );
  },
);

t.test('a server started before any release is live but not ready', async (t) => {
  const broker = await mosquitto(t);
  const { url } = await startServe(
    t,
    [
      '--channel',
      'stable',
      '--trusted-keys',
      signer.publicKey,
      '--broker',
      broker.url,
      '--device-id',
      'dev-c',
    ],
    { BOOKREC_MQTT_PASSWORD: TEST_USERS['dev-c'] },
  );
  t.equal((await fetch(`${url}/healthz`)).status, 200);
  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 503);
  t.same(await ready.json(), { ready: false, reason: 'no release of channel stable installed yet' });
  const rec = await postJson(`${url}/v1/recommend`, { history: [] });
  t.equal(rec.status, 503);
  t.match(rec.json, { error: { code: 'NOT_READY' } });
});
