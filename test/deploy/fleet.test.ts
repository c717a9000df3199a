import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { writePackage } from '../../common/model/modelPackage.js';
import { safeUrl } from '../../common/mqttSettings.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { parseStatus } from '../../common/protocol/status.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { highestVersion, nextSerial } from '../../deploy/channelState.js';
import { FleetView } from '../../deploy/fleet.js';
import { packageInfo, readPackage } from '../../deploy/packageFiles.js';
import { stepsFrom } from '../../deploy/rollout.js';
import { readMetrics } from '../../deploy/session.js';
import { parts } from '../helpers/packageFixture.js';
import { buildRelease, bytes, packageDir, testKey } from '../helpers/release.js';

const topics = new TopicMap();
const status = (id: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      schema: 1,
      deviceId: id,
      state: 'online',
      agentVersion: '0.1.0',
      model: { channel: 'stable', model: 'student', version: 3 },
      lastUpdate: null,
      uptimeSeconds: 1,
      at: '2025-01-01T00:00:00Z',
      ...extra,
    }),
  );

t.test('fleet view: statuses in, a table and counts out', async (t) => {
  const view = new FleetView(3);
  t.ok(view.apply(topics, topics.device('b', 'status'), status('b')));
  t.ok(view.apply(topics, topics.device('a', 'status'), status('a', { state: 'offline', model: null })));
  t.notOk(
    view.apply(topics, topics.device('c', 'status'), status('someone-else')),
    'a payload naming another id',
  );
  t.notOk(view.apply(topics, topics.device('c', 'status'), Buffer.from('not json')));
  t.notOk(view.apply(topics, 'bookrec/devices/c/events', status('c')), 'not a status topic');
  t.same(
    view.list().map((d) => [d.deviceId, d.state]),
    [
      ['a', 'offline'],
      ['b', 'online'],
    ],
  );
  t.match(view.summary(), /2 devices \(1 online, 1 offline\); none: 1, stable\/student@3: 1/);
  t.ok(
    view.apply(topics, topics.device('a', 'status'), Buffer.alloc(0)),
    'a cleared status removes the device',
  );
  t.equal(view.size, 1);
  view.apply(topics, topics.device('c', 'status'), status('c'));
  view.apply(topics, topics.device('d', 'status'), status('d'));
  t.notOk(view.apply(topics, topics.device('e', 'status'), status('e')), 'the table is bounded');
  t.match(view.summary(), /^1 status message dropped/m, 'one message, said in the singular');
});

t.test('status parsing never trusts types', async (t) => {
  const s = parseStatus(
    status('x', {
      agentVersion: 7,
      model: { channel: 'stable' },
      lastUpdate: { channel: 'stable', version: 2, result: 'failed', code: 'FILE_SHA256' },
    }),
  );
  t.match(s, {
    agentVersion: '?',
    model: null,
    lastUpdate: { result: 'failed', code: 'FILE_SHA256', reason: undefined },
  });
  t.equal(
    parseStatus(status('x', { lastUpdate: { channel: 'stable', version: 2, result: 'great' } }))?.lastUpdate,
    null,
  );
  t.equal(parseStatus(Buffer.from('[]')), undefined);
  t.equal(parseStatus(Buffer.from('{"deviceId":"x","state":"asleep"}')), undefined);
});

t.test('serials, versions, steps and safe URLs', async (t) => {
  const { key } = testKey();
  const m = buildRelease(key, topics, { version: 3, serial: 5 }).manifest;
  t.equal(nextSerial(m, 2), 6, 'above the current serial');
  t.equal(nextSerial(m, 1_000_000), 1_000_000, 'at least the clock');
  t.equal(nextSerial(undefined, 0), 1);
  t.equal(highestVersion({ current: m, currentPayload: undefined, records: new Map([[7, m]]) }), 7);
  t.same(stepsFrom(10, 50, 20), [30, 50]);
  t.same(stepsFrom(10, 50, 0), [50]);
  t.same(stepsFrom(50, 10, 20), [10], 'narrowing is one step');
  t.same(stepsFrom(0, 100, 30), [30, 60, 90, 100]);
  t.equal(safeUrl('mqtts://user:secret@broker:8883'), 'mqtts://broker:8883');
  t.equal(safeUrl('::'), '(unparseable URL)');
});

t.test('package reading: sorted files, odd entries refused, limits checked', async (t) => {
  const dir = await packageDir(t, [
    { name: 'z.bin', data: bytes(10) },
    { name: 'a/b.json', data: Buffer.from('{}') },
  ]);
  const files = await readPackage(dir, 4096, DEFAULT_LIMITS);
  t.same(
    files.map((f) => f.entry.name),
    ['a/b.json', 'z.bin'],
  );
  t.equal(files[1].entry.chunks, 1);
  await t.rejects(readPackage(dir, 4096, { ...DEFAULT_LIMITS, maxReleaseBytes: 11 }), {
    code: 'PACKAGE_TOO_LARGE',
  });
  await t.rejects(readPackage(dir, 4096, { ...DEFAULT_LIMITS, maxFiles: 1 }), { code: 'PACKAGE_TOO_LARGE' });
  await t.rejects(readPackage(join(dir, 'nope'), 4096, DEFAULT_LIMITS), { code: 'PACKAGE_MISSING' });
  await t.rejects(readPackage(await packageDir(t, []), 4096, DEFAULT_LIMITS), { code: 'PACKAGE_EMPTY' });
  await symlink('/etc/passwd', join(dir, 'link'));
  await t.rejects(readPackage(dir, 4096, DEFAULT_LIMITS), {
    code: 'PACKAGE_INVALID',
    message: /link is not a regular file/,
  });
  const odd = await packageDir(t, [{ name: 'has space.bin', data: bytes(1) }]);
  await t.rejects(readPackage(odd, 4096, DEFAULT_LIMITS), {
    code: 'PACKAGE_INVALID',
    message: /not allowed/,
  });
});

t.test('metrics files', async (t) => {
  const dir = await packageDir(t, []);
  t.same(await readMetrics(join(dir, 'none.json'), true), {}, 'optional and absent');
  await t.rejects(readMetrics(join(dir, 'none.json'), false), { code: 'CONFIG_FILE' });
  await writeFile(join(dir, 'm.json'), '{"hr@10":0.5,"label":"x","nested":{"a":1}}');
  t.same(await readMetrics(join(dir, 'm.json'), false), { 'hr@10': 0.5 });
  await writeFile(join(dir, 'bad.json'), '[1]');
  await t.rejects(readMetrics(join(dir, 'bad.json'), false), { message: /not a JSON object/ });
  await writeFile(join(dir, 'worse.json'), '{');
  await t.rejects(readMetrics(join(dir, 'worse.json'), false), { message: /not JSON/ });
});

t.test('a model package manifest gives defaults and must match the files', async (t) => {
  await useBackend('cpu');
  const good = join(t.testdir(), 'pkg');
  const p = parts('student-2026-01-01', 1, 0);
  await writePackage(good, p);
  p.model.dispose();
  t.same(packageInfo(await readPackage(good, 4096, DEFAULT_LIMITS)), {
    modelId: 'student-2026-01-01',
    metrics: { ndcg10: 0.251, recall20: 0.3 },
  });
  const weights = await readFile(join(good, 'weights.bin'));
  weights[3] ^= 1;
  await writeFile(join(good, 'weights.bin'), weights);
  const brokenFiles = await readPackage(good, 4096, DEFAULT_LIMITS);
  t.throws(() => packageInfo(brokenFiles), { code: 'PACKAGE_INVALID', message: /lists "weights.bin"/ });
  t.same(packageInfo([]), { metrics: {} }, 'a plain folder has no defaults');
  const junk = await packageDir(t, [{ name: 'bookrec-package.json', data: Buffer.from('{') }]);
  const junkFiles = await readPackage(junk, 4096, DEFAULT_LIMITS);
  t.throws(() => packageInfo(junkFiles), { code: 'PACKAGE_INVALID', message: /not JSON/ });
  const partial = await packageDir(t, [
    { name: 'bookrec-package.json', data: Buffer.from(JSON.stringify({ format: 1, modelId: 'x' })) },
  ]);
  const partialFiles = await readPackage(partial, 4096, DEFAULT_LIMITS);
  t.throws(() => packageInfo(partialFiles), {
    code: 'PACKAGE_INVALID',
    message: /bookrec-package.json: .*is missing/,
  });
});
