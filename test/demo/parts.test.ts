import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { useBackend } from '../../common/model/backend.js';
import { generateSigningKey } from '../../common/protocol/signing.js';
import { reusableKeys, reusablePackage, trainStamp, writeStamp } from '../../demo/artifacts.js';
import { installState } from '../../demo/fleet.js';
import { signalsTaken, writeSignals } from '../../demo/reader.js';
import { answerLines, shown } from '../../demo/report.js';
import { isRealSound, loudspeaker, requireSpeechEngine, wavLevels } from '../../demo/sound.js';
import { makePackage } from '../agent/helpers.js';
import { testContext } from '../helpers/cliContext.js';

/** The demo's parts that decide something, in-process: the whole demo runs in demo.test.ts. */

t.before(() => useBackend('wasm'));

/** A mono 16-bit WAV of `seconds` of a sine at `amplitude` (0: silence). */
function wav(seconds: number, amplitude: number, rate = 22050): Buffer {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(0x7fffffff, 40); // as espeak-ng writes it when streaming
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(amplitude * 32767 * Math.sin(i / 5)), 44 + 2 * i);
  return buf;
}

t.test('a missing data folder fails before anything starts, saying how to get the data', async (t) => {
  const { ctx, err } = testContext({ PATH: process.env.PATH });
  const code = await main(['demo', '--data', join(t.testdir(), 'nothing'), '--out', t.testdir()], ctx);
  t.equal(code, 1);
  t.match(
    err.join('\n'),
    /no ratings\.csv, books\.csv.*bookrec data fetch.*BOOKREC_DATA_DIR.*\[DATA_MISSING\]/,
  );
  const usage = testContext({});
  t.equal(await main(['demo', '--agentz', '2'], usage.ctx), 2, 'a typo in a flag is a usage error');
  const help = testContext({});
  t.equal(await main(['demo', '--help'], help.ctx), 0);
  t.match(help.out.join('\n'), /--agents .*--reader .*--retrain/s);
});

t.test('WAV levels: speech passes, silence and clicks do not, junk is refused', async (t) => {
  const loud = wavLevels(wav(2, 0.5));
  t.ok(loud.peak > 0.49 && loud.rms > 0.3 && Math.abs(loud.seconds - 2) < 0.01);
  t.ok(isRealSound(loud));
  t.notOk(isRealSound(wavLevels(wav(2, 0))), 'silence');
  t.notOk(isRealSound(wavLevels(wav(0.2, 0.5))), 'a click');
  t.throws(() => wavLevels(Buffer.from('not a wav at all')), { code: 'DEMO_NO_SOUND' });
  const eight = wav(1, 0.5);
  eight.writeUInt16LE(8, 34);
  t.throws(() => wavLevels(eight), { message: /8-bit/ });
  t.throws(() => wavLevels(wav(1, 0.5).subarray(0, 36)), { message: /no data chunk/ });
});

t.test('loudspeaker: a sound card and aplay, else the reason', async (t) => {
  const dir = t.testdir();
  const cards = join(dir, 'cards');
  t.match(loudspeaker({ PATH: dir }, join(dir, 'none')), { ok: false, why: /no sound card/ });
  await writeFile(cards, '--- no soundcards ---\n');
  t.match(loudspeaker({ PATH: dir }, cards), { ok: false, why: 'no sound card' });
  await writeFile(cards, ' 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n');
  t.match(loudspeaker({ PATH: dir }, cards), { ok: false, why: /HDA-Intel.*no aplay/ });
  await writeFile(join(dir, 'aplay'), '#!/bin/sh\n');
  await chmod(join(dir, 'aplay'), 0o755);
  t.same(loudspeaker({ PATH: `:${dir}` }, cards), { ok: true, card: 'HDA-Intel - HDA Intel PCH' });
});

t.test('no espeak-ng on PATH: the demo stops before any work, naming the apt-get line', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'out');
  const c = testContext({ PATH: dir });
  const code = await main(['demo', '--out', out, '--data', join(dir, 'no-data')], c.ctx);
  t.equal(code, 1);
  t.match(
    c.err.join('\n'),
    /espeak-ng, which is not on PATH.*apt-get install -y --no-install-recommends espeak-ng/,
  );
  t.match(c.err.join('\n'), /DEMO_NO_SPEECH_ENGINE/);
  await t.rejects(readFile(join(out, 'demo.log')), { code: 'ENOENT' }, 'no work started: no log, no folder');
  t.doesNotThrow(() => requireSpeechEngine({ PATH: '/usr/bin:/bin' }), 'espeak-ng is installed here');
});

t.test('an earlier package is reused only when stamped for this data and intact', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'data');
  await mkdir(data);
  await writeFile(join(data, 'ratings.csv'), 'user_id,book_id,rating\n1,1,5\n');
  const train = join(dir, 'train');
  const want = await trainStamp(data, 42);
  t.match(await reusablePackage(train, want), { ok: false, why: /no package/ });
  await makePackage(join(train, 'package'));
  await writeStamp(train, want);
  t.match(await reusablePackage(train, want), { ok: true, detail: /files, \d+ bytes, sha256 checked/ });
  t.match(await reusablePackage(train, { ...want, seed: 7 }), { ok: false, why: /other seed/ });
  const catalogue = join(train, 'package', 'catalogue.json');
  await writeFile(catalogue, `${await readFile(catalogue, 'utf8')} `);
  t.match(await reusablePackage(train, want), { ok: false, why: /damaged.*catalogue\.json/ });
});

t.test('keys are reused only as a matching pair', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'k.pem');
  t.match(await reusableKeys(file), { ok: false, why: /no key pair/ });
  const a = generateSigningKey();
  await writeFile(file, a.privateKeyPem, { mode: 0o600 });
  await writeFile(join(dir, 'k.pub'), `${a.publicKey}\n`);
  t.match(await reusableKeys(file), { ok: true, publicKey: a.publicKey, keyId: a.keyId });
  await writeFile(join(dir, 'k.pub'), `${generateSigningKey().publicKey}\n`);
  t.match(await reusableKeys(file), { ok: false, why: /not the public half/ });
  await writeFile(file, 'garbage');
  t.match(await reusableKeys(file), { ok: false, why: /does not load/ });
});

t.test('install state from a retained status; a refused release stops the demo', async (t) => {
  const base = {
    schema: 1,
    deviceId: 'speaker-1',
    state: 'online' as const,
    agentVersion: '0.1.0',
    model: null,
    lastUpdate: null,
    updates: [],
    will: false,
    uptimeSeconds: 1,
    at: '',
  };
  t.equal(installState(undefined, 1), 'waiting');
  t.equal(installState(base, 1), 'waiting');
  const installed = {
    ...base,
    model: { channel: 'stable', model: 'm', version: 1 },
    lastUpdate: { channel: 'stable', version: 1, result: 'installed' as const, at: '' },
  };
  t.equal(installState(installed, 1), 'installed');
  t.equal(installState({ ...installed, state: 'offline' }, 1), 'waiting');
  t.throws(
    () =>
      installState(
        {
          ...base,
          lastUpdate: {
            channel: 'stable',
            version: 1,
            result: 'rejected',
            code: 'MANIFEST_UNKNOWN_KEY',
            at: '',
          },
        },
        1,
      ),
    { code: 'DEMO_INSTALL_FAILED', message: /speaker-1 reported rejected.*MANIFEST_UNKNOWN_KEY/ },
  );
});

t.test(
  'signals: one finished event per book, ending now; taken when the position reaches the end',
  async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'signals.jsonl');
    const books = [1, 2, 3].map((id) => ({ id, title: `B${id}`, authors: '', year: null, language: '' }));
    await writeSignals(file, books, Date.parse('2026-01-01T12:00:00Z'));
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    t.same(lines[2], { bookId: 3, kind: 'finished', at: '2026-01-01T12:00:00.000Z' });
    t.equal(lines[0].at, '2026-01-01T11:58:00.000Z');
    const pos = join(dir, 'signals.pos');
    t.notOk(await signalsTaken(file, pos), 'no position yet');
    const { ino, size } = await import('node:fs/promises').then((fs) => fs.stat(file));
    await writeFile(pos, JSON.stringify({ dev: 1, ino, offset: size - 1 }));
    t.notOk(await signalsTaken(file, pos), 'not to the end');
    await writeFile(pos, JSON.stringify({ dev: 1, ino, offset: size }));
    t.ok(await signalsTaken(file, pos));
  },
);

t.test('the answer block marks the books the reader read next', async (t) => {
  const book = (id: number) => ({
    id,
    title: `Book ${id}`,
    authors: `Author ${id}`,
    year: null,
    language: '',
  });
  const lines = answerLines({
    deviceId: 'speaker-1',
    text: 'Because you finished Book 1, you might enjoy Book 2 by Author 2 and Book 3 by Author 3.',
    books: [book(2), book(3)],
    reader: { userId: 9, history: [book(1)], targets: [book(3), book(4)], testReaders: 10, chosenBy: 'test' },
    wav: '/tmp/x.wav',
    levels: { peak: 0.5, rms: 0.1, seconds: 3 },
    speaker: 'loudspeaker: none',
    quality: { line: '', hitRate10: 0.7, testReaders: 10 },
  }).join('\n');
  t.match(lines, /\n {4}1\. Book 2 - Author 2\n {2}\* 2\. Book 3 - Author 3\n/);
  t.match(lines, /1 of 2 recommended books are among the 2 this reader read next/);
  const none = answerLines({
    deviceId: 'speaker-1',
    text: 'x',
    books: [book(2)],
    reader: { userId: 9, history: [], targets: [book(4)], testReaders: 10, chosenBy: 'test' },
    wav: '/tmp/x.wav',
    levels: { peak: 0.5, rms: 0.1, seconds: 3 },
    speaker: 'loudspeaker: none',
    quality: { line: '', hitRate10: 0.7, testReaders: 10 },
  }).join('\n');
  t.match(none, /None of the 1 is among the 1 books .*top 10 holds at least one for 70%/);
  t.equal(shown('/work/x/y', '/work/x'), 'y');
  t.equal(shown('/elsewhere/y', '/work/x'), '/elsewhere/y');
});
