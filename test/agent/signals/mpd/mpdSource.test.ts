import t from 'tap';
import { MpdSource, mpdSource } from '../../../../agent/signals/mpd/mpdSource.js';
import { parseMpdAddress } from '../../../../agent/signals/mpd/protocol.js';
import type { SignalSink } from '../../../../agent/signals/source.js';
import { main } from '../../../../cli/bookrec.js';
import { createMemoryLogger } from '../../../../common/log.js';
import type { BookEntry } from '../../../../common/model/catalogue.js';
import type { Signal } from '../../../../common/protocol/signals.js';
import { testContext } from '../../../helpers/cliContext.js';
import { type MpdServer, startMpd, writeAudiobook } from '../../../helpers/mpd.js';
import { testKey } from '../../../helpers/release.js';
import { realBooks, testConfig, waitFor } from '../../helpers.js';

/**
 * The MPD source on a real mpd, with the real goodbooks catalogue, handing its events to a sink that
 * records them (the agent's own intake is in test/agent/mpd.test.ts): connection trouble, skips,
 * albums that are no book or several.
 */

function recordingSink(catalogue: BookEntry[] | undefined) {
  const signals: Signal[] = [];
  const sink: SignalSink = {
    text: async () => undefined,
    signal: async (s) => {
      signals.push(s);
    },
    ask: () => undefined,
    lastAnswerBook: () => undefined,
    catalogue: () => catalogue,
    inHistory: (id) => signals.some((s) => s.bookId === id),
  };
  return { sink, signals, kinds: () => signals.map((s) => `${s.kind} ${s.bookId}`) };
}

function source(
  t: { teardown(fn: () => unknown): void },
  mpd: Pick<MpdServer, 'address'>,
  sink: SignalSink,
  options: { password?: string; skipSeconds?: number } = {},
) {
  const log = createMemoryLogger('debug');
  const src = new MpdSource({
    address: parseMpdAddress(mpd.address),
    password: options.password ?? '',
    sink,
    log,
    skipMs: (options.skipSeconds ?? 30) * 1000,
    progressMs: 3_600_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
  });
  t.teardown(() => src.stop());
  return { src, log };
}

t.test('MPD down at start, then up; a restart; the state says so', async (t) => {
  const mpd = await startMpd(t);
  await mpd.stop();
  const { sink } = recordingSink([]);
  const { src, log } = source(t, mpd, sink);
  await src.start();
  const down = await waitFor('a failed attempt', () => src.health().failures >= 2 && src.health());
  t.match(down, { state: 'reconnecting', connects: 0, lastError: /^MPD_CONNECT: .*ECONNREFUSED/ });
  t.equal(
    log.lines.filter((l) => l.msg === 'MPD unavailable: trying again with backoff').length,
    1,
    'the same failure is logged once, not on every retry',
  );
  await mpd.restart();
  await waitFor('connected', () => src.health().state === 'connected');
  t.match(src.health(), { connects: 1, lastError: null });
  await mpd.restart();
  await waitFor('connected again', () => src.health().connects === 2 && src.health().state === 'connected');
  t.ok(src.health().failures > down.failures, 'the lost connection counted');
  await src.stop();
  t.equal(src.health().state, 'stopped');
});

t.test('a wrong or missing password: retried with backoff, named, never logged', async (t) => {
  const secret = 'pw-kitchen-31337';
  const mpd = await startMpd(t, { password: secret });
  const { sink } = recordingSink([]);
  const wrong = source(t, mpd, sink, { password: 'pw-wrong-2718' });
  await wrong.src.start();
  const health = await waitFor('refused', () => wrong.src.health().failures >= 2 && wrong.src.health());
  t.match(health, { state: 'reconnecting', lastError: /^MPD_PASSWORD: .*refused the password/ });
  const none = source(t, mpd, sink);
  await none.src.start();
  await waitFor('no permission', () => /^MPD_PERMISSION/.test(none.src.health().lastError ?? ''));
  const right = source(t, mpd, sink, { password: secret });
  await right.src.start();
  await waitFor('connected with the right password', () => right.src.health().state === 'connected');
  const logged = JSON.stringify([...wrong.log.lines, ...none.log.lines, ...right.log.lines]);
  t.notMatch(logged, /pw-wrong-2718|pw-kitchen-31337/, 'no password in any log line');
  t.notMatch(JSON.stringify([wrong.src.health(), none.src.health()]), /pw-/, 'nor in the health');
});

t.test('skips, and albums that are no book or several, counted once each', async (t) => {
  const books = await realBooks(t, 2000);
  if (!books) return;
  const mpd = await startMpd(t, {
    prepare: async (music) => {
      const one = { chapters: 1, seconds: 1 };
      // Long enough to be left before it ends by itself.
      await writeAudiobook(music, {
        folder: 'a-hobbit',
        album: 'The Hobbit',
        artist: 'J.R.R. Tolkien',
        chapters: 1,
        seconds: 8,
      });
      await writeAudiobook(music, {
        folder: 'b-twilight',
        album: 'Twilight',
        artist: 'Stephenie Meyer',
        ...one,
      });
      await writeAudiobook(music, {
        folder: 'c-salem',
        album: "'Salem's Lot",
        artist: 'Stephen King',
        ...one,
      });
      await writeAudiobook(music, { folder: 'd-abbey', album: 'Abbey Road', artist: 'The Beatles', ...one });
    },
  });
  await mpd.update();
  const rec = recordingSink(books);
  const { src, log } = source(t, mpd, rec.sink, { skipSeconds: 30 });
  await src.start();
  await waitFor('connected', () => src.health().state === 'connected');

  for (const folder of ['a-hobbit', 'b-twilight']) await mpd.command('add', [folder]);
  await mpd.command('play', ['0']);
  await waitFor('the Hobbit started', () => rec.kinds().includes('started 7'));
  await mpd.command('play', ['1']);
  await waitFor('Twilight started', () => rec.kinds().includes('started 3'));
  t.same(rec.kinds().slice(0, 3), ['started 7', 'skipped 7', 'started 3'], 'left within 30 s: skipped');

  await mpd.command('clear');
  for (const folder of ['c-salem', 'd-abbey']) await mpd.command('add', [folder]);
  // Each round: play (a read), the second album (a read), the end of the queue (a read).
  const playedThrough = async () => {
    const reads = src.health().reads;
    await mpd.command('play', ['0']);
    await waitFor('the queue played through and was seen', async () => {
      const status = await mpd.command('status');
      return !status.some((p) => p.key === 'songid') && src.health().reads >= reads + 3;
    });
  };
  await playedThrough();
  await playedThrough();
  t.match(src.health().albums, { matched: 2, ambiguous: 1, unknown: 1 }, 'each album counted once');
  t.equal(log.lines.filter((l) => l.msg === 'MPD album matches several books: ignored').length, 1);
  t.match(
    log.lines.find((l) => l.msg === 'MPD album matches several books: ignored'),
    { bookIds: [349, 1292] },
  );
  t.equal(log.lines.filter((l) => l.msg === 'MPD album is no catalogue book: ignored').length, 1);
  t.notOk(
    rec.signals.some((s) => s.bookId === 349 || s.bookId === 1292),
    'no event for an ambiguous album',
  );
  t.same(
    rec.kinds(),
    ['started 7', 'skipped 7', 'started 3', 'skipped 3'],
    'Twilight was left too, for an album that is no book',
  );
  t.match(src.health().events, { started: 2, skipped: 2, finished: 0 });
});

t.test('settings: off by default, a bad address named, the password never printed', async (t) => {
  const off = testConfig(t.testdir());
  t.equal(off.signals.mpd, '');
  t.equal(
    mpdSource({
      config: off,
      sink: recordingSink([]).sink,
      transport: unused,
      signalsTopic: '',
      log: createMemoryLogger(),
    }),
    undefined,
  );
  const on = testConfig(t.testdir(), ['--signals-mpd', '/run/mpd/socket'], {
    BOOKREC_MPD_PASSWORD: 'pw-sofa-99',
  });
  const src = mpdSource({
    config: on,
    sink: recordingSink([]).sink,
    transport: unused,
    signalsTopic: '',
    log: createMemoryLogger(),
  });
  t.equal(src?.name, 'mpd');
  t.throws(() => testConfig(t.testdir(), ['--signals-mpd', 'moode:66000']), {
    code: 'USAGE',
    message: /--signals-mpd \(signals\.mpd\): "moode:66000" has a port outside 1\.\.65535/,
  });
  const help = testContext();
  t.equal(await main(['agent', '--help'], help.ctx), 0);
  t.match(help.out.join('\n'), /\[secret, \$BOOKREC_MPD_PASSWORD\]/, 'the password is never shown in help');
  const { ctx, out, err } = testContext({
    BOOKREC_MPD_PASSWORD: 'pw-sofa-99',
    BOOKREC_DEVICE_ID: 'dev-a',
    BOOKREC_TRUSTED_KEYS: testKey().publicKey,
    PATH: process.env.PATH,
  });
  const code = await main(
    ['agent', '--check-config', '--signals-mpd', 'localhost:6600', '--state-dir', t.testdir()],
    ctx,
  );
  t.equal(code, 0, err.join('\n'));
  t.match(out.join('\n'), /mpd localhost:6600 \(password set\)/);
  t.notMatch(out.join('\n'), /pw-sofa-99/);
});

const unused = () => {
  throw new Error('MPD does not use MQTT');
};
