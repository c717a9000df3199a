import type { MqttClient } from 'mqtt';
import t from 'tap';
import { createMemoryLogger } from '../../common/log.js';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { rolloutBucket } from '../../common/protocol/rolloutBucket.js';
import { startEmbeddedBroker } from '../../deploy/broker.js';
import { readChannelState } from '../../deploy/channelState.js';
import type { FailureJudgement } from '../../deploy/failureRule.js';
import type { PackageFile } from '../../deploy/packageFiles.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { publishRelease } from '../../deploy/publisher.js';
import { readRetained } from '../../deploy/retained.js';
import { rollback } from '../../deploy/rollback.js';
import { changeRollout } from '../../deploy/rollout.js';
import { deployOn, deviceOn, type MqttVersion } from '../helpers/deployHarness.js';
import { mosquitto } from '../helpers/mosquitto.js';
import { bytes, packageDir, testKey } from '../helpers/release.js';

const signer = testKey();
const request = (files: PackageFile[], extra: Partial<Parameters<typeof publishRelease>[1]> = {}) => ({
  channel: 'stable',
  model: 'student',
  version: 0,
  minAgentVersion: '0.1.0',
  metrics: { 'ndcg@10': 0.21 },
  percent: 100,
  files,
  ...extra,
});

async function modelPackage(tt: Parameters<typeof packageDir>[0], seed: number, size = 300_000) {
  const dir = await packageDir(tt, [
    { name: 'model.json', data: Buffer.from(JSON.stringify({ seed })) },
    { name: 'weights/group1.bin', data: bytes(size, seed) },
  ]);
  return readPackage(dir, 16 * 1024, DEFAULT_LIMITS);
}

const brokers: [string, MqttVersion, (tt: Parameters<typeof mosquitto>[0]) => Promise<string>][] = [
  ['mosquitto, MQTT 5', '5', async (tt) => (await mosquitto(tt)).url],
  ['mosquitto, MQTT 3.1.1', '3.1.1', async (tt) => (await mosquitto(tt)).url],
  [
    'embedded aedes, MQTT 3.1.1',
    '3.1.1',
    async (tt) => {
      const b = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: createMemoryLogger() });
      tt.teardown(() => b.stop());
      return b.url;
    },
  ],
];

for (const [name, version, start] of brokers) {
  t.test(`publish -> receive -> verify on ${name}`, async (t) => {
    const url = await start(t);
    const files = await modelPackage(t, 1);
    const { ctx } = await deployOn(t, url, { version });
    // One device online before the release, one joining after it: both get it (retained chunks).
    const early = await deviceOn(t, url, signer.keys, { user: 'dev-a', version, windowChunks: 8 });
    const progress: number[] = [];
    const manifest = await publishRelease(
      { ...ctx, onProgress: (d) => progress.push(d) },
      request(files),
      signer.key,
    );
    t.equal(manifest.version, 1, 'first release of the channel is version 1');
    t.equal(
      progress.at(-1),
      files.reduce((n, f) => n + f.entry.chunks, 0),
      'progress reaches every chunk',
    );
    const late = await deviceOn(t, url, signer.keys, { user: 'dev-b', version });
    for (const device of [early, late]) {
      t.match(await device.outcome(10_000), { type: 'complete', version: 1 });
      t.ok(device.installed[0].files[1].data.equals(files[1].data), 'weights intact');
      t.equal(device.installed[0].manifest.metrics['ndcg@10'], 0.21);
    }
  });
}

t.test('releases, staged rollout, rollback and clearing on mosquitto', async (t) => {
  const broker = await mosquitto(t);
  const { ctx, link } = await deployOn(t, broker.url, { version: '5' });
  ctx.keys = signer.keys;
  const v1 = await modelPackage(t, 1, 40_000);
  const v2 = await modelPackage(t, 2, 40_000);
  const v3 = await modelPackage(t, 3, 40_000);

  const m1 = await publishRelease(ctx, request(v1), signer.key);
  const device = await deviceOn(t, broker.url, signer.keys, { user: 'dev-a' });
  await device.next((e) => e.type === 'complete' && e.version === 1);

  // v2 at a percent that leaves dev-a out; the salt is random, so pick the percent from dev-a's bucket.
  const m2 = await publishRelease(ctx, request(v2, { percent: 0 }), signer.key);
  t.equal(m2.previousVersion, 1);
  t.ok(m2.serial > m1.serial);
  const bucket = rolloutBucket('dev-a', m2.rollout.salt);
  t.match(await device.next((e) => e.type === 'skipped' && e.version === 2), { code: 'NOT_IN_ROLLOUT' });
  const widened = await changeRollout(
    ctx,
    {
      channel: 'stable',
      percent: Math.min(100, Math.floor(bucket) + 1),
      maxFailureShare: 1,
      minReports: 1,
      step: 0,
      stepWaitMs: 0,
    },
    signer.key,
  );
  t.equal(widened.rollout.salt, m2.rollout.salt, 'widening keeps the salt');
  const done2 = await device.next((e) => e.type === 'complete' && e.version === 2);
  await device.installedSerial((done2 as { serial: number }).serial);
  t.equal(device.state.installedVersion, 2);

  await t.rejects(publishRelease(ctx, request(v3, { version: 2 }), signer.key), {
    code: 'VERSION_NOT_NEWER',
  });
  const m3 = await publishRelease(ctx, request(v3), signer.key);
  t.equal(m3.version, 3);
  await device.next((e) => e.type === 'complete' && e.version === 3);
  let state = await readChannelState(ctx, 'stable');
  t.same([...state.records.keys()].sort(), [2, 3], 'version 1 cleared: only current and previous remain');
  const chunks = async (v: number) =>
    (await readRetained(link, `bookrec/releases/stable/${v}/+/+`, ctx.retained)).size;
  t.equal(await chunks(1), 0, 'version 1 chunks cleared');
  t.ok((await chunks(2)) > 0, 'version 2 chunks kept for rollback');

  const back = await rollback(ctx, 'stable', signer.key);
  t.match(back, { version: 2, rollback: true, previousVersion: null, rollout: { percent: 100 } });
  await device.next((e) => e.type === 'complete' && e.version === 2 && e.serial === back.serial);
  await device.installedSerial(back.serial);
  t.equal(device.state.installedVersion, 2, 'the device went back to version 2');
  t.equal(await chunks(3), 0, 'the rolled-back release is cleared');
  await t.rejects(rollback(ctx, 'stable', signer.key), { code: 'NO_PREVIOUS' });

  // The next automatic version skips the rolled-back number (its record stays as a tombstone).
  const m4 = await publishRelease(ctx, request(v1), signer.key);
  t.equal(m4.version, 4);
  await device.next((e) => e.type === 'complete' && e.version === 4);
  state = await readChannelState(ctx, 'stable');
  t.same([...state.records.keys()].sort(), [2, 4]);
});

t.test('rollout abort rule: widening stops when devices report failures', async (t) => {
  const broker = await mosquitto(t);
  const { ctx, log } = await deployOn(t, broker.url);
  ctx.keys = signer.keys;
  const m = await publishRelease(ctx, request(await modelPackage(t, 5, 5000), { percent: 10 }), signer.key);
  const status = (id: string, result: string) =>
    JSON.stringify({
      schema: 1,
      deviceId: id,
      state: 'online',
      agentVersion: '0.1.0',
      model: null,
      lastUpdate: { channel: 'stable', version: m.version, result, at: new Date().toISOString() },
      uptimeSeconds: 1,
      at: new Date().toISOString(),
    });
  const { connectAs } = await import('../helpers/mosquitto.js');
  const devices = new Map<string, MqttClient>();
  for (const [id, result] of [
    ['dev-a', 'installed'],
    ['dev-b', 'failed'],
    ['dev-c', 'failed'],
  ]) {
    const c = await connectAs(t, broker.url, id);
    devices.set(id, c);
    await c.publishAsync(`bookrec/devices/${id}/status`, status(id, result), { qos: 1, retain: true });
  }
  const rule = {
    channel: 'stable',
    percent: 50,
    maxFailureShare: 0.5,
    minReports: 3,
    step: 20,
    stepWaitMs: 10,
  };
  await t.rejects(changeRollout(ctx, rule, signer.key), {
    code: 'ROLLOUT_ABORTED',
    message: /stopped at 10%: 2 of 3 devices failed/,
  });
  const state = await readChannelState(ctx, 'stable');
  t.equal(state.current?.rollout.percent, 10, 'the manifest was not widened');

  // Fewer reports than --min-reports: the share rule is not applied, and any failure stops (issue 21:
  // before, too few reports meant no rule at all, and the rollout widened).
  const heard: FailureJudgement[] = [];
  const told = { ...ctx, onFailureRule: (j: FailureJudgement) => heard.push(j) };
  await t.rejects(changeRollout(told, { ...rule, minReports: 4 }, signer.key), {
    code: 'ROLLOUT_ABORTED',
    message:
      /stopped at 10%: 2 of 3 devices failed; only 3 report\(s\), fewer than --min-reports 4: the failure share rule \(at most 50\.0%\) was not applied, and any failure among so few stops the rollout/,
  });
  t.match(heard, [{ rule: 'count', verdict: 'stop' }], 'the command is told which rule stopped it');
  t.equal((await readChannelState(ctx, 'stable')).current?.rollout.percent, 10, 'still not widened');

  // The failed devices gone, one good report is all there is: widening goes on, said loudly.
  for (const id of ['dev-b', 'dev-c'])
    await devices.get(id)?.publishAsync(`bookrec/devices/${id}/status`, '', { qos: 1, retain: true });
  heard.length = 0;
  const ok = await changeRollout(told, { ...rule, minReports: 4 }, signer.key);
  t.equal(ok.rollout.percent, 50, 'no failure among too few reports: widening goes on in steps');
  t.match(heard[0], { rule: 'count', verdict: 'widen', reason: /only 1 report\(s\).*was not applied/ });
  t.ok(
    log.lines.some((l) => l.level === 'warn' && l.msg === 'failure share rule not applied: too few reports'),
    'a warning in the log',
  );
});
