import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { startMpd, writeAudiobook } from '../helpers/mpd.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, realBooks, waitFor } from './helpers.js';

/**
 * End to end with the speaker's own player: a real mpd (null output, real time) plays spoken
 * three-chapter audiobooks tagged as releases tag them; the agent, installed from a package with real
 * goodbooks titles over a real mosquitto, follows MPD and stores started/finished in its history like
 * any other signal; a recommendation then names the finished book as its reason. mpd is restarted in
 * the middle of the second book: no event is lost and none is doubled.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test(
  'MPD plays a book to its end -> finished in the history -> the reason; a restart loses nothing',
  async (t) => {
    const books = await realBooks(t, 300);
    if (!books) return;
    const hobbit = books.find((b) => b.title === 'The Hobbit')!;
    const twilight = books.find((b) => b.title === 'Twilight (Twilight, #1)')!;
    const mpd = await startMpd(t, {
      prepare: async (music) => {
        await writeAudiobook(music, {
          folder: 'Tolkien/The Hobbit',
          album: 'The Hobbit (Unabridged)',
          albumArtist: 'J.R.R. Tolkien',
          artist: 'Andy Serkis',
          chapters: 3,
          seconds: 1.5,
        });
        await writeAudiobook(music, {
          folder: 'Meyer/Twilight',
          album: 'Twilight: Twilight Saga, Book 1',
          albumArtist: 'Stephenie Meyer',
          chapters: 3,
          seconds: 2,
        });
      },
    });
    await mpd.update();

    const dir = await serviceDir(t);
    const broker = await agentBroker(t);
    const pkg = await makePackage(join(dir, 'student'), { catalogue: books, seed: 5 });
    const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
    const ops = await listener(t, broker.url, 'deploy', [topic('replies')]);
    // --share-history: the reply that leaves the device may name the book (off by default, for privacy).
    const agent = await startAgent(t, join(dir, 'state'), broker.url, signer, [
      '--signals-mpd',
      mpd.address,
      '--share-history',
    ]);
    const health = () =>
      agent.service.signalHealth().mpd as { state: string; connects: number; failures: number };
    await waitFor('connected to MPD', () => health()?.state === 'connected');
    const manifest = await publishPackage(t, broker.url, signer, pkg.dir);
    await waitFor(
      'the model installed',
      () => agent.service.store.current?.release.version === manifest.version,
      20_000,
    );

    const events = (bookId: number) =>
      agent.service.history
        .entries()
        .filter((e) => e.bookId === bookId)
        .map((e) => e.kind);

    // The listener plays the Hobbit with MPD's own commands; it plays in real time to its end.
    await mpd.command('add', ['Tolkien/The Hobbit']);
    await mpd.command('play', ['0']);
    await waitFor('the Hobbit finished', () => events(hobbit.id).includes('finished'), 20_000);
    t.same(events(hobbit.id), ['started', 'finished'], 'started once, finished once, nothing else');
    t.match(agent.service.intake.counters, { accepted: 2, malformed: 0, unknownBook: 0 });

    await ops.client.publishAsync(topic('commands'), JSON.stringify({ id: 'mpd-1', command: 'recommend' }));
    const reply = await waitFor('the reply', () => ops.json(topic('replies')).find((r) => r.id === 'mpd-1'));
    const rec = reply.data as { reason: string; source: string; books: { id: number; title: string }[] };
    t.equal(rec.source, 'model');
    t.equal(rec.reason, 'because you finished The Hobbit', 'the finished book is the reason');
    t.notOk(
      rec.books.some((b) => b.id === hobbit.id),
      'the finished book is not recommended back',
    );

    // The second book; mpd restarts in its middle (SIGTERM: it saves its state and resumes playing).
    await mpd.command('clear');
    await mpd.command('add', ['Meyer/Twilight']);
    await mpd.command('play', ['0']);
    await waitFor('Twilight started', () => events(twilight.id).includes('started'));
    const before = health();
    await mpd.restart();
    await waitFor('reconnected', () => health().connects > before.connects && health().state === 'connected');
    await waitFor('Twilight finished', () => events(twilight.id).includes('finished'), 20_000);
    t.same(events(twilight.id), ['started', 'finished'], 'across the restart: no event lost, none doubled');
    t.ok(health().failures > before.failures, 'the lost connection is in the health');
    t.notOk(
      agent.service.history.entries().some((e) => e.kind === 'skipped'),
      'a book played to its end is no skip',
    );
  },
);
