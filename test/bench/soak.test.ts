import { join } from 'node:path';
import t from 'tap';
import { account, LinkWatch } from '../../bench/soak/accounting.js';
import { checkStatus } from '../../bench/soak/checks.js';
import { SignalLedger } from '../../bench/soak/ledger.js';
import { summarise } from '../../bench/soak/memory.js';
import { connectClientId } from '../../bench/soak/proxy.js';
import { renderReport } from '../../bench/soak/report.js';
import { runSoak } from '../../bench/soak/soak.js';
import { createMemoryLogger } from '../../common/log.js';
import type { SignedManifest } from '../../common/protocol/manifest.js';
import type { SeenStatus } from '../../common/protocol/status.js';
import { TopicMap } from '../../common/protocol/topics.js';
import type { Transport } from '../../common/protocol/transport.js';
import { scaled } from '../helpers/time.js';

/**
 * The chaos soak's machinery, small: 4 devices for 30 s on a real mosquitto with one of each fault
 * (broker kill -9, dropped connections, corrupted release, forged manifest, killed `bookrec publish`).
 * It needs mosquitto and the built CLI (npm test builds first) and fails, never skips, without them.
 * Then the checks on constructed inputs, to show each one can fail.
 */

// A whole fleet on a broker: minutes on a busy machine, so the file's limit scales too.
t.setTimeout(scaled(300_000));
t.test('soak: 4 devices, 30 s, every fault once, nothing lost', async (t) => {
  const lines: string[] = [];
  const report = await runSoak({
    devices: 4,
    durationMs: 30_000,
    seed: 3,
    rootDir: join(t.testdir(), 'soak'),
    brokerRestarts: 1,
    dropEveryMs: 4000,
    sampleEveryMs: 1000,
    settleMs: scaled(45_000),
    log: createMemoryLogger('error'),
    progress: (l) => lines.push(l),
  });
  const text = renderReport(report);
  t.ok(report.ok, text);
  const kinds = [
    'corrupted release',
    'bad signature',
    'killed',
    'kill -9',
    'dropped connections',
    'final clean release',
  ];
  for (const k of kinds)
    t.ok(
      report.injections.some((i) => i.what.includes(k)),
      `injected: ${k}`,
    );
  t.equal(report.checks.length, 4);
  t.same(
    report.checks.filter((c) => c.problems.length > 0),
    [],
    'every device runs the last good release',
  );
  t.ok(report.signals.file.written > 50, 'file signals written');
  t.ok(report.signals.mqtt.written > 50, 'MQTT signals written');
  t.equal(report.signals.file.lost + report.signals.mqtt.lost, 0, 'no written signal lost');
  t.equal(report.signals.file.found, report.signals.file.written, 'every file line is in a history');
  t.ok(report.disconnects >= 4, 'the agents saw their links drop');
  // The relay finds a device's connection by the agent's client id: a cut that matched none cut nothing.
  t.ok(report.connectionsCut >= 3, `the relay cut device connections (${report.connectionsCut})`);
  t.ok(report.samples >= 20, 'memory sampled');
  t.match(text, /result: PASS/);
});

t.test(
  'accounting: a written signal missing from the history is lost; near a link drop (MQTT) excused',
  async (t) => {
    const transport = { publish: async () => undefined } as unknown as Transport;
    const ledger = new SignalLedger({
      topics: new TopicMap(),
      transport,
      fileOf: () => join(t.testdir(), 'signals.jsonl'),
      books: [7, 8, 9],
      kinds: ['started', 'finished'],
    });
    ledger.write('d1', 'mqtt'); // id 1
    ledger.write('d1', 'mqtt'); // id 2
    ledger.write('d1', 'file'); // id 3
    await ledger.settle();
    const [a, b, c] = ledger.written;
    const watch = new LinkWatch([]);
    // d1 was off the broker around signal 2 only.
    b.sentAt = a.sentAt + 60_000;
    b.writtenAt = b.sentAt + 10;
    watch.down.set('d1', [[b.sentAt - 100, b.sentAt + 200]]);
    const entry = (s: typeof a) => ({ bookId: s.bookId, kind: s.kind, at: ledger.t0 + s.id });
    const none = account(ledger, new Map([['d1', []]]), watch);
    t.equal(none.mqtt.lost, 1, 'signal 1: acknowledged while d1 was connected, missing: lost');
    t.equal(none.mqtt.excused, 1, 'signal 2: acknowledged while d1 was off the broker: excused');
    t.equal(none.file.lost, 1, 'a file line is never excused');
    t.equal(none.lostSamples.length, 2);
    const all = account(ledger, new Map([['d1', [entry(a), entry(a), entry(b), entry(c)]]]), watch);
    t.same([all.mqtt.lost, all.file.lost, all.mqtt.found, all.duplicates], [0, 0, 2, 1]);
    const wrong = account(ledger, new Map([['d1', [{ ...entry(c), bookId: 999 }]]]), watch);
    t.equal(wrong.mismatched, 1, 'same id, other book: mismatched');
  },
);

t.test('status check: each wrong field is a problem', async (t) => {
  const expected = { version: 6 } as SignedManifest;
  const good: SeenStatus = {
    schema: 1,
    deviceId: 'd',
    state: 'online',
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'm', version: 6 },
    lastUpdate: { channel: 'stable', version: 6, result: 'installed', at: '' },
    updates: [],
    will: false,
    uptimeSeconds: 1,
    at: '',
  };
  t.same(checkStatus(good, expected), []);
  t.equal(checkStatus(undefined, expected).length, 1);
  t.equal(checkStatus({ ...good, state: 'offline' }, expected).length, 1);
  t.equal(checkStatus({ ...good, model: { ...good.model!, version: 4 } }, expected).length, 1);
  t.equal(
    checkStatus(
      { ...good, lastUpdate: { ...good.lastUpdate!, result: 'failed', code: 'FILE_SHA256' } },
      expected,
    ).length,
    1,
  );
});

t.test('memory check: level is bounded, a steady climb is not', async (t) => {
  const flat = Array.from({ length: 40 }, (_, i): [number, number] => [i * 5, 100 + (i % 3)]);
  const climb = Array.from({ length: 40 }, (_, i): [number, number] => [i * 5, 100 + i * 2]);
  t.ok(summarise(flat, 8).ok);
  const s = summarise(climb, 8);
  t.notOk(s.ok);
  t.ok(Math.abs(s.slopePerMin - 24) < 1e-9, 'slope 2 MiB per 5 s = 24 MiB/min');
  t.notOk(summarise(flat.slice(0, 6), 8).ok, 'too few samples to judge: not ok');
});

t.test('relay: the client id of an MQTT CONNECT', async (t) => {
  const id = 'bookrec-agent-sim-001';
  const body = Buffer.concat([
    Buffer.from([0, 4]),
    Buffer.from('MQTT'),
    Buffer.from([4, 2, 0, 60]),
    Buffer.from([0, id.length]),
    Buffer.from(id),
  ]);
  const packet = Buffer.concat([Buffer.from([0x10, body.length]), body]);
  t.equal(connectClientId(packet), id);
  t.equal(connectClientId(packet.subarray(0, 10)), undefined, 'incomplete');
  t.equal(connectClientId(Buffer.from([0x30, 0])), undefined, 'not a CONNECT');
  const v5 = Buffer.concat([
    Buffer.from([0, 4]),
    Buffer.from('MQTT'),
    Buffer.from([5, 2, 0, 60, 0]),
    Buffer.from([0, id.length]),
    Buffer.from(id),
  ]);
  t.equal(connectClientId(Buffer.concat([Buffer.from([0x10, v5.length]), v5])), id, 'MQTT 5');
});
