import t from 'tap';
import { cardMetrics } from '../../common/model/evaluationCard.js';
import { inRollout } from '../../common/protocol/rolloutBucket.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { FleetState } from '../../deploy/fleet.js';
import { ago, changeLine } from '../../deploy/fleetTable.js';
import { buildRelease, testKey } from '../helpers/release.js';

const topics = new TopicMap();
const now = new Date('2026-01-05T12:00:00.000Z');
const HOUR = 3_600_000;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

const status = (id: string, extra: Record<string, unknown> = {}) =>
  json({
    schema: 1,
    deviceId: id,
    state: 'online',
    agentVersion: '0.1.0',
    model: { channel: 'stable', model: 'student', version: 3 },
    lastUpdate: null,
    uptimeSeconds: 1,
    at: '2026-01-05T11:59:00.000Z',
    ...extra,
  });
const counters = (id: string, recommendations: number, accepted: number, at = '2026-01-05T11:00:00.000Z') =>
  json({
    format: 1,
    deviceId: id,
    windowSeconds: 604800,
    versions: [
      {
        channel: 'stable',
        version: 3,
        recommendations,
        accepted,
        liked: accepted,
        started: 0,
        finished: 0,
        skipped: 0,
        open: 0,
      },
    ],
    at,
  });

/** Device ids in and out of a 50% rollout with this salt. */
const salt = 'fleet-salt';
const ids = Array.from({ length: 40 }, (_, i) => `dev-${i}`);
const inside = ids.filter((id) => inRollout(id, { percent: 50, salt }));
const outside = ids.filter((id) => !inRollout(id, { percent: 50, salt }));

t.test(
  'rows join status, counters and the channel manifest: rollout, install, acceptance, stale',
  async (t) => {
    const state = new FleetState(topics);
    const release = buildRelease(testKey().key, topics, { version: 4, percent: 50, salt });
    t.ok(state.apply(topics.manifest('stable'), json(release.manifest)));
    const [a, b, c] = inside;
    const [d, e] = outside;
    state.apply(
      topics.device(a, 'status'),
      status(a, { model: { channel: 'stable', model: 'student', version: 4 } }),
    );
    state.apply(topics.device(b, 'status'), status(b));
    state.apply(
      topics.device(c, 'status'),
      status(c, {
        lastUpdate: {
          channel: 'stable',
          version: 4,
          result: 'failed',
          code: 'FILE_SHA256',
          at: '2026-01-05T11:00:00.000Z',
        },
      }),
    );
    state.apply(topics.device(d, 'status'), status(d, { state: 'offline', at: '2026-01-05T10:00:00.000Z' }));
    state.apply(
      topics.device(e, 'status'),
      status(e, { state: 'offline', at: '2026-01-01T00:00:00.000Z', model: null }),
    );
    state.apply(topics.device(a, 'counters'), counters(a, 20, 8));
    state.apply(topics.device(d, 'counters'), counters(d, 4, 0, '2026-01-05T11:30:00.000Z'));

    const rows = new Map(state.rows(now, 24 * HOUR).map((r) => [r.deviceId, r]));
    t.match(rows.get(a), {
      state: 'online',
      release: { version: 4, percent: 50, inRollout: true },
      install: { state: 'installed', version: 4 },
      acceptance: 0.4,
    });
    t.match(rows.get(b), { install: { state: 'pending', version: 4 }, acceptance: null });
    t.match(rows.get(c), { install: { state: 'failed', version: 4, code: 'FILE_SHA256' } });
    t.match(rows.get(d), {
      state: 'offline',
      lastSeen: '2026-01-05T11:30:00.000Z',
      release: { inRollout: false },
      install: { state: 'not in rollout' },
    });
    t.match(
      rows.get(e),
      { state: 'stale', channel: null, release: null, install: null },
      'no channel known yet',
    );

    const table = state.render(now, 24 * HOUR);
    const line = (id: string) => table.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
    t.match(
      table.split('\n')[0],
      /^device +state +last seen +agent +channel +model +rollout +install +acceptance$/,
    );
    t.match(
      line(a),
      /online +now +0\.1\.0 +stable +student@4 +in \(50% of v4\) +installed v4 +40\.0% \(8\/20\)/,
    );
    t.match(line(c), /failed v4 \(FILE_SHA256\)/);
    t.match(line(d), /offline +30 min ago .*out \(50% of v4\) +not in rollout +0\.0% \(0\/4\)/);
    t.match(line(e), /stale +5 d ago/);
    t.match(table, /1 stale \(bookrec fleet forget DEVICE clears a device that is gone\)/);

    const doc = state.json(now, 24 * HOUR) as { devices: unknown[]; releases: unknown[] };
    t.equal(doc.devices.length, 5);
    t.same(
      doc.releases,
      [{ channel: 'stable', model: 'student', version: 4, percent: 50 }],
      'no salt in the output',
    );

    t.ok(state.apply(topics.manifest('stable'), Buffer.alloc(0)), 'a cleared manifest');
    t.equal(state.rows(now, 24 * HOUR).find((r) => r.deviceId === a)?.release, null);
    t.notOk(
      state.apply(topics.manifest('stable'), Buffer.from('{"not": "a manifest"}')),
      'junk is no release',
    );
  },
);

t.test('change lines: what a person follows changed, nothing for a newer time alone', async (t) => {
  const state = new FleetState(topics);
  state.apply(topics.device('k', 'status'), status('k'));
  const [before] = state.rows(now, HOUR);
  t.match(
    changeLine(undefined, before, now),
    /^12:00:00 k: state online, agent 0\.1\.0, channel stable, model student@3$/,
  );
  state.apply(topics.device('k', 'status'), status('k', { at: '2026-01-05T11:59:30.000Z' }));
  t.equal(changeLine(before, state.rows(now, HOUR)[0], now), undefined);
  state.apply(topics.device('k', 'status'), status('k', { state: 'offline' }));
  t.equal(changeLine(before, state.rows(now, HOUR)[0], now), '12:00:00 k: state online -> offline');
  t.equal(changeLine(before, undefined, now), '12:00:00 k: gone (its status was cleared)');
});

t.test('relative times', async (t) => {
  const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
  t.same(
    [at(1000), at(42_000), at(5 * 60_000), at(3 * HOUR), at(12 * 24 * HOUR), 'garbage'].map((x) =>
      ago(x, now),
    ),
    ['now', '42 s ago', '5 min ago', '3 h ago', '12 d ago', '-'],
  );
});

t.test('issue 21 item 15f: each channel’s release with its evaluation card', async (t) => {
  const state = new FleetState(topics);
  const key = testKey().key;
  const card = {
    format: 1 as const,
    trainedAt: '2026-01-02T00:00:00.000Z',
    dataset: 'goodbooks-10k',
    ndcg10: 0.2512,
    slices: { '1-4': 0.18, '20+': 0.31 },
    modelBytes: 812_345,
  };
  const metrics = { 'ndcg@10': 0.1, ...cardMetrics(card) };
  state.apply(topics.manifest('stable'), json(buildRelease(key, topics, { version: 7, metrics }).manifest));
  state.apply(
    topics.manifest('beta'),
    json(buildRelease(key, topics, { channel: 'beta', version: 2 }).manifest),
  );
  const shown = state.render(new Date('2026-01-05T12:00:00.000Z'), 60_000);
  t.match(
    shown,
    'release beta v2 (student): no evaluation card\nrelease stable v7 (student): NDCG@10 0.251 (1-4: 0.180; 20+: 0.310), 812 kB, trained 2026-01-02',
  );
  const asJson = state.json(new Date(), 60_000) as { releases: { channel: string; card?: object }[] };
  t.match(asJson.releases.find((r) => r.channel === 'stable')?.card, { ndcg10: 0.2512, modelBytes: 812_345 });
});

t.test('no devices yet: what to do instead of an empty header; one device is "1 device"', async (t) => {
  const state = new FleetState(topics);
  const empty = state.render(now, 24 * HOUR);
  t.match(empty, /^no devices yet: /);
  t.match(empty, /bookrec agent --device-id kitchen .*docs\/raspberry-pi\.md/s, 'how to get one');
  t.notMatch(empty, /^device +state/m, 'no empty table header');
  t.notMatch(empty, /0 devices/);
  state.apply(topics.device('k', 'status'), status('k'));
  const one = state.render(now, 24 * HOUR);
  t.match(one, /^1 device \(1 online, 0 offline\)/m);
  state.apply(topics.device('m', 'status'), status('m'));
  t.match(state.render(now, 24 * HOUR), /^2 devices \(2 online, 0 offline\)/m);
});

t.test("a device's own strings never steer the operator's terminal", async (t) => {
  const state = new FleetState(topics);
  state.apply(topics.device('k', 'status'), status('k', { agentVersion: '1\x1b]0;PWNED\x07' }));
  const table = state.render(now, 24 * HOUR);
  t.match(table, /1\\x1b\]0;PWNED\\x07/);
  t.notMatch(table.replaceAll('\n', ''), /\p{Cc}/u);
  t.notMatch(changeLine(undefined, state.rows(now, 24 * HOUR)[0], now) ?? '', /\p{Cc}/u);
});
