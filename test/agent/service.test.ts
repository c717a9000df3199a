import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { replyContract } from '../../common/protocol/commands.js';
import { type RecommendationMessage, recommendationContract } from '../../common/protocol/recommendation.js';
import { statusContract } from '../../common/protocol/status.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { APP_USER, agentBroker, listener, publishPackage, startAgent } from './harness.js';
import { makePackage, realBooks, waitFor, wavLevels } from './helpers.js';

/**
 * End to end on a real mosquitto: deploy publishes a model package with real goodbooks titles, the
 * agent installs it, a signal file and a (fake) button press make it recommend, espeak-ng speaks a WAV
 * that is checked for sound, and the JSON recommendation arrives on the recommendations topic.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

t.test('publish -> install -> signals + button -> WAV with sound and JSON with real titles', async (t) => {
  const books = await realBooks(t, 300);
  if (!books) return;
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  const signals = join(dir, 'player.jsonl');
  await writeFile(signals, '');
  const broker = await agentBroker(t);
  const pkg = await makePackage(join(dir, 'student'), { catalogue: books, seed: 3 });
  const topic = (kind: string) => `bookrec/devices/dev-a/${kind}`;
  const app = await listener(t, broker.url, APP_USER, [topic('recommendations'), 'hermes/tts/say']);
  const ops = await listener(t, broker.url, 'deploy', [topic('status'), topic('events'), topic('replies')]);

  const agent = await startAgent(t, stateDir, broker.url, signer, [
    '--signals-file',
    signals,
    '--signals-poll-ms',
    '50',
    '--tts',
    'espeak-ng',
    '--hermes',
    '--hermes-sites',
    'kitchen',
    '--count',
    '3',
  ]);
  t.match(
    agent.notified[0],
    ['--pid=' + process.pid, '--ready', '--status=no model yet: waiting for a release'],
    'READY without a model: it can answer',
  );
  await waitFor('status online', () => ops.json(topic('status')).find((s) => s.state === 'online'));

  const manifest = await publishPackage(t, broker.url, signer, pkg.dir);
  await waitFor(
    'the model installed',
    () => agent.service.store.current?.release.version === manifest.version,
  );
  t.equal(agent.service.store.current?.catalogue[0].title, books[0].title);
  const status = await waitFor('status with the model', () =>
    ops
      .json(topic('status'))
      .find((s) => (s.model as { version?: number } | null)?.version === manifest.version),
  );
  t.match(status, { state: 'online', lastUpdate: { result: 'installed', version: manifest.version } });
  // Events travel on their own: wait for it rather than expect it to have arrived with the status.
  await waitFor('an installed event', () => ops.json(topic('events')).some((e) => e.phase === 'installed'));

  // The listener's player app: three finished books, a malformed line, an unknown book.
  const read = books.slice(0, 3);
  await appendFile(
    signals,
    `${read.map((b, i) => JSON.stringify({ bookId: b.id, kind: 'finished', at: new Date(Date.now() - (3 - i) * 60_000).toISOString() })).join('\n')}\n{"bookId": 1, "kind":\n{"bookId": 99999999, "kind": "liked"}\n`,
  );
  // The bad lines come after the good ones: wait for all five, not only the three stored.
  await waitFor('five lines read', () => {
    const c = agent.service.intake.counters;
    return agent.service.history.size === 3 && c.malformed + c.unknownBook === 2;
  });
  t.match(
    agent.service.intake.counters,
    { accepted: 3, malformed: 1, unknownBook: 1 },
    'bad lines counted, not fatal',
  );

  await agent.gpio.press(17, { bounces: 3, holdMs: 30 });
  const rec = (await waitFor(
    'a recommendation',
    () => app.json(topic('recommendations'))[0],
  )) as unknown as RecommendationMessage;
  t.equal(rec.trigger, 'button');
  t.equal(rec.source, 'model');
  t.equal(rec.books.length, 3);
  const titles = new Set(books.map((b) => b.title));
  t.ok(
    rec.books.every((b) => titles.has(b.title) && typeof b.score === 'number'),
    `real goodbooks titles: ${rec.books.map((b) => b.title).join(' | ')}`,
  );
  t.notOk(
    rec.books.some((b) => read.some((r) => r.id === b.id)),
    'no book already read',
  );
  // The history stays on the device (output.shareHistory is off by default): no book from it goes out.
  t.equal(rec.reason, 'based on your reading');
  t.equal(rec.basedOn, null);
  t.match(rec.text, /^Based on your reading, you might enjoy .+ by .+/);
  t.notOk(
    read.some((b) => JSON.stringify(rec).includes(b.title)),
    'no finished title in the published JSON',
  );
  t.equal(app.json(topic('recommendations')).length, 1, 'one press, one recommendation (debounced)');

  const wav = join(stateDir, 'speech', 'last.wav');
  await waitFor('the speech played', () => agent.played.length === 1);
  const levels = await wavLevels(wav);
  t.ok(
    levels.peak > 0.2 && levels.rms > 0.02,
    `the WAV has sound (peak ${levels.peak.toFixed(2)}, RMS ${levels.rms.toFixed(3)})`,
  );
  t.ok(levels.samples / levels.rate > 2, `${(levels.samples / levels.rate).toFixed(1)} s of speech`);

  // Like: the first book named becomes a history event.
  await agent.gpio.press(27, { holdMs: 30 });
  await waitFor('the like stored', () =>
    agent.service.history.entries().some((e) => e.kind === 'liked' && e.bookId === rec.books[0].id),
  );

  // A local app may also send signals over MQTT.
  await app.client.publishAsync(topic('signals'), JSON.stringify({ bookId: books[10].id, kind: 'started' }));
  await waitFor('the MQTT signal stored', () =>
    agent.service.history.entries().some((e) => e.bookId === books[10].id),
  );

  // Hermes: an intent from a voice stack gets its answer on hermes/tts/say, for the same site and session.
  await app.client.publishAsync(
    'hermes/intent/RecommendBook',
    JSON.stringify({ sessionId: 's-1', siteId: 'kitchen', input: 'what should I read' }),
  );
  const say = await waitFor('hermes/tts/say', () => app.json('hermes/tts/say')[0]);
  t.match(say, { siteId: 'kitchen', sessionId: 's-1', lang: 'en', text: /you might enjoy/ });
  t.equal(agent.played.length, 1, 'the satellite speaks a Hermes answer, not the local speaker');

  // Operator commands: each gets exactly one reply with its id, a malformed or unknown one too.
  const ask = async (id: string | null, payload: string) => {
    await ops.client.publishAsync(topic('commands'), payload);
    return waitFor(`the reply to ${id}`, () => ops.json(topic('replies')).find((r) => r.id === id));
  };
  const answer = await ask('op-1', JSON.stringify({ id: 'op-1', command: 'recommend' }));
  t.match(answer, { ok: true, command: 'recommend', data: { trigger: 'command', deviceId: 'dev-a' } });
  t.ok(replyContract.is(answer), 'the reply fits the wire contract');
  t.ok(recommendationContract.is(answer.data), 'its data is the recommendation message');
  t.ok(
    app.json(topic('recommendations')).find((r) => r.trigger === 'command'),
    'the answer is also published as every answer is',
  );
  const statusReply = await ask('op-2', JSON.stringify({ id: 'op-2', command: 'status' }));
  t.match(statusReply, { ok: true, data: { state: 'online', deviceId: 'dev-a' } });
  t.ok(statusContract.is(statusReply.data), 'status data fits the contract');
  t.match(await ask('op-3', JSON.stringify({ id: 'op-3', command: 'dance' })), {
    ok: false,
    error: { code: 'COMMAND_UNKNOWN', message: /unknown command "dance"/ },
  });
  t.match(await ask(null, '{"id": "op-4", "command": '), {
    ok: false,
    error: { code: 'COMMAND_INVALID', message: /not valid JSON/ },
  });

  // Clean stop: the retained status says offline.
  await agent.service.stop();
  await waitFor('offline status', () => ops.json(topic('status')).at(-1)?.state === 'offline');
  t.same(agent.notified.at(-1), ['STOPPING=1']);
});
