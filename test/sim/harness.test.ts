import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { scrambleOutputs, writeScrambledPackage } from '../../sim/brokenModel.js';
import { SimFleet } from '../../sim/fleet.js';
import { startHarness } from '../../sim/harness.js';
import {
  askRound,
  expectVersions,
  type Player,
  replayFoldIn,
  selected,
  waitForVersion,
} from '../../sim/play.js';
import { judge, type SimReader } from '../../sim/readers.js';
import { createRingLogger } from '../../sim/ringLog.js';
import { makePackage } from '../agent/helpers.js';
import { fixtureModel } from '../helpers/modelFixture.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { scaled } from '../helpers/time.js';

/**
 * The fleet harness on its own, without the data set: a synthetic package, readers with made-up
 * fold-ins and targets, the embedded broker. Checks the parts the simulator and the soak build on:
 * install through real signed releases, signals stored, asks by command and by button, follow-ups,
 * rollout selection, and a clean stop.
 */
t.before(() => useBackend('wasm'));

// A whole fleet on a broker: minutes on a busy machine, so the file's limit scales too.
t.setTimeout(scaled(300_000));
t.test('harness: 6 agents install, take signals, answer commands and buttons, stop cleanly', async (t) => {
  // Not t.testdir(): the agents write here until the harness's teardown stops them (helpers/serviceDir.ts).
  const dir = await serviceDir(t);
  const pkg = await makePackage(join(dir, 'pkg'), { n: 60, seed: 5 });
  const log = createMemoryLogger('warn');
  const h = await startHarness({ devices: 6, rootDir: join(dir, 'fleet'), log, agentLogLevel: 'info' });
  t.teardown(() => h.stop());
  t.equal(h.fleet.devices.length, 6);
  t.equal(h.fleet.devices[0].id, 'sim-000');
  t.same([...h.fleet.versions()], [['none', 6]]);

  const v1 = await h.deployer.publish(pkg.dir, 'fixture', 100);
  await waitForVersion(h, h.fleet.devices, v1.version, scaled(30_000));
  expectVersions(h, [v1.version]);

  const ids = pkg.catalogue.map((b) => b.id);
  const players: Player[] = h.fleet.devices.map((device, i) => ({
    device,
    reader: {
      user: i,
      foldIn: ids.slice(i, i + 5),
      // Every book the device could recommend is a target for even devices, none for odd ones.
      targets: new Set(i % 2 === 0 ? ids : []),
      accepted: [],
    },
  }));
  const replay = await replayFoldIn(h, players);
  t.same(replay, { sent: 30, refused: 0 });
  for (const p of players) t.equal(p.device.service.history.entries().length, 5, `${p.device.id} history`);

  const byCommand = await askRound(h, players);
  const byButton = await askRound(h, players, { via: 'button' });
  for (const tally of [byCommand, byButton]) {
    const v = tally.get(v1.version)!;
    t.equal(v.recommendations, 6);
    t.equal(v.devices.size, 6);
    t.equal(v.accepted, 3, 'even readers accept, odd ones skip');
    t.equal(v.fallback, 0);
  }
  // Accepted: started + finished; skipped: one signal. Fold-in 5 + 2 rounds.
  for (const p of players) {
    const kinds = p.device.service.history.entries().map((e) => e.kind);
    t.equal(kinds.length, p.reader.user % 2 === 0 ? 9 : 7, `${p.device.id} follow-ups stored`);
    if (p.reader.user % 2 === 1) t.equal(kinds.filter((k) => k === 'skipped').length, 2);
  }
  t.equal(h.driver.unsolicited, 0);

  // A 50% release reaches exactly the devices the bucket rule picks; the rest keep v1.
  const v2 = await h.deployer.publish(pkg.dir, 'fixture', 50);
  const canary = selected(h, v2);
  await waitForVersion(h, canary, v2.version, scaled(30_000));
  // The rest decided too: each logged that it skipped v2 (not in the rollout), so "keeps v1" below is
  // an outcome, not a look taken before the release reached it.
  const skippedV2 = (id: string) =>
    h.agentLog
      .lines()
      .some(
        (l) =>
          l.msg === 'release skipped' && l.version === v2.version && String(l.ns).split(':').includes(id),
      );
  const rest = h.fleet.devices.filter((d) => !canary.includes(d));
  await h.fleet.waitFor(`skip of version ${v2.version}`, (d) => skippedV2(d.id), scaled(30_000), rest);
  for (const d of h.fleet.devices) {
    t.equal(SimFleet.version(d), canary.includes(d) ? v2.version : v1.version, `${d.id} version`);
  }
  await h.stop();
  t.equal(h.fleet.devices.filter((d) => d.service.store.current).length, 0, 'models disposed');
});

t.test('judge: first unaccepted target is taken, otherwise the first book is skipped', async (t) => {
  const reader: SimReader = { user: 0, foldIn: [1], targets: new Set([7, 8]), accepted: [] };
  const rec = (ids: number[]) =>
    ({
      books: ids.map((id) => ({ id, title: '', authors: '', score: 1 })),
      modelVersion: 1,
    }) as unknown as Parameters<typeof judge>[1];
  t.same(judge(reader, rec([3, 7, 8]), 10), {
    accepted: 7,
    followUp: [
      { bookId: 7, kind: 'started', at: 10 },
      { bookId: 7, kind: 'finished', at: 11 },
    ],
  });
  t.equal(judge(reader, rec([7, 8]), 10).accepted, 8, 'a book accepted before is not accepted twice');
  t.same(judge(reader, rec([3]), 10), {
    accepted: undefined,
    followUp: [{ bookId: 3, kind: 'skipped', at: 10 }],
  });
  t.same(judge(reader, rec([]), 10), { accepted: undefined, followUp: [] });
});

t.test('scrambled package: same catalogue, finite scores, outputs permuted', async (t) => {
  const dir = t.testdir();
  const good = await makePackage(join(dir, 'good'), { n: 40, seed: 2 });
  const manifest = await writeScrambledPackage(good.dir, join(dir, 'broken'), 1);
  t.match(manifest.modelId, /-scrambled$/);
  t.equal(manifest.encoding.items, 40);
  const model = fixtureModel(10, 4, 3, 1);
  t.teardown(() => model.dispose());
  t.equal(scrambleOutputs(model, Int32Array.from([1, 0, 2, 3, 4, 5, 6, 7, 8, 9])), 2, 'sparse + decode');
  t.equal(scrambleOutputs(model, new Int32Array(7)), 0, 'nothing has 7 outputs');
});

t.test('ring logger keeps the newest lines and counts the dropped', async (t) => {
  const log = createRingLogger('info', 3);
  for (let i = 0; i < 5; i++) log.info('line', { i });
  log.debug('below level');
  t.same(
    log.lines().map((l) => l.i),
    [2, 3, 4],
  );
  t.equal(log.dropped(), 2);
});
