import t from 'tap';
import { FrameGuard } from '../../bench/fanout/frameGuard.js';
import { type FanoutOptions, runFanout } from '../../bench/fanout/run.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { scaled } from '../helpers/time.js';

/**
 * The fan-out benchmark's machinery, small: 50 protocol-level devices in 2 worker processes (the built
 * dist/bench/fanout/worker.js: npm test builds first) on a real mosquitto and across a real bridge, and
 * a corrupted chunk and a forged manifest that every device must refuse.
 */

const topics = new TopicMap();
const base = (over: Partial<FanoutOptions>): FanoutOptions => ({
  topology: 'single',
  devices: 50,
  workers: 2,
  batch: 25,
  packageBytes: 300_000,
  chunkBytes: 64 * 1024,
  // Only reached when devices wait for something that never comes: then they are listed, and fail here.
  timeoutMs: scaled(30_000),
  ...over,
});

t.setTimeout(scaled(120_000));

for (const topology of ['single', 'bridged'] as const) {
  t.test(`${topology}: 50 devices each verify every file of a signed release`, async (t) => {
    const report = await runFanout(base({ topology }));
    t.equal(report.connected, 50);
    t.same(report.failed, []);
    t.same(report.unfinished, []);
    t.equal(report.verified, 50);
    t.ok(report.allVerifiedMs > 0, 'time to the last device verified');
    t.equal(report.brokers.length, topology === 'single' ? 1 : 2);
    for (const b of report.brokers) t.ok(b.hwmKiB >= b.connectedKiB && b.connectedKiB > 0, b.name);
    t.equal(report.workerMemory.length, 2);
  });
}

t.test('a chunk corrupted on its way to the broker fails every device on its sha256', async (t) => {
  const corrupted = topics.chunk({ channel: 'stable', version: 1, file: 1, chunk: 2 });
  const report = await runFanout(
    base({
      devices: 10,
      tamper: (topic, payload) => {
        if (topic !== corrupted) return payload;
        const bad = Buffer.from(payload);
        bad[100] ^= 0xff;
        return bad;
      },
    }),
  );
  t.equal(report.verified, 0);
  t.equal(report.failed.length, 10);
  t.match(report.failed[0], { code: 'FILE_SHA256', reason: /weights\.bin: sha256 .* does not match/ });
  t.ok(
    report.failed.every((f) => f.code === 'FILE_SHA256'),
    'all on the sha256',
  );
});

t.test('a manifest changed after signing is refused by every device behind the bridge', async (t) => {
  const report = await runFanout(
    base({
      topology: 'bridged',
      devices: 10,
      tamper: (topic, payload) => {
        if (topic !== topics.manifest('stable')) return payload;
        const manifest = JSON.parse(payload.toString('utf8'));
        return Buffer.from(JSON.stringify({ ...manifest, model: 'forged' }));
      },
    }),
  );
  t.equal(report.verified, 0);
  t.equal(report.failed.length, 10);
  t.ok(
    report.failed.every((f) => f.code === 'MANIFEST_SIGNATURE'),
    JSON.stringify(report.failed[0]),
  );
});

t.test('a frame longer than the limit is refused from its header', async (t) => {
  const guard = new FrameGuard(1000);
  guard.check(Buffer.from([0x30, 0x05, 1, 2, 3, 4, 5, 0xd0, 0x00]));
  // 0x30, then remaining length 1001 = 0xe9 0x07, split across two reads.
  guard.check(Buffer.from([0x30, 0xe9]));
  t.throws(() => guard.check(Buffer.from([0x07])), { code: 'PACKET_TOO_LARGE' });
  t.throws(() => new FrameGuard(1000).check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), {
    code: 'PACKET_MALFORMED',
  });
});
