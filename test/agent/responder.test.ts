import { join } from 'node:path';
import t from 'tap';
import { HERMES_MAX_CHARS, HermesBridge, hermesText } from '../../agent/hermes.js';
import { HistoryStore } from '../../agent/history.js';
import { type ActiveModel, ModelStore } from '../../agent/modelStore.js';
import { Outbox } from '../../agent/outbox.js';
import { Responder, type ResponderContext } from '../../agent/responder.js';
import type { SpeechResult, Tts } from '../../agent/speech/tts.js';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { MemoryBroker } from '../helpers/memoryBroker.js';
import { testKey } from '../helpers/release.js';
import { makePackage, releaseOf, waitFor } from './helpers.js';

/** A Tts that records what it was asked to say and takes `ms` to say it. */
class RecordingTts implements Tts {
  readonly engine = 'fake';
  said: string[] = [];
  fail = false;
  constructor(private readonly ms = 0) {}
  async speak(text: string): Promise<SpeechResult> {
    this.said.push(text);
    await new Promise((r) => setTimeout(r, this.ms));
    if (this.fail) throw new Error('no sound card');
    return { synthesisMs: this.ms, totalMs: this.ms };
  }
}

let model: ActiveModel;
t.before(async () => {
  await useBackend('wasm');
  const dir = t.testdir();
  const pkg = await makePackage(join(dir, 'pkg'), { n: 30, seed: 9 });
  const store = new ModelStore({ stateDir: join(dir, 'state'), log: createMemoryLogger() });
  await store.start();
  model = await store.install(await releaseOf(testKey(), pkg.dir, 1));
});

async function setup(t: { testdir(): string }, over: Partial<ResponderContext> = {}) {
  const broker = new MemoryBroker();
  const client = broker.client();
  const published: { topic: string; body: Record<string, unknown> }[] = [];
  broker.client().onMessage(() => undefined);
  const log = createMemoryLogger();
  const outbox = new Outbox({
    online: () => true,
    maxMessages: 10,
    log,
    publish: async (topic, payload) => void published.push({ topic, body: JSON.parse(payload) }),
  });
  const history = new HistoryStore({ stateDir: t.testdir(), log, maxEvents: 10, compactEvery: 10 });
  await history.start();
  const tts = new RecordingTts(30);
  const responder = new Responder({
    model: () => model,
    history,
    tts,
    outbox,
    topics: new TopicMap(),
    deviceId: 'dev-a',
    output: { mode: 'both', count: 2, shareHistory: false },
    quietHours: { start: '', end: '' },
    log,
    now: () => new Date(2026, 0, 5, 12, 0),
    ...over,
  });
  return { broker, client, published, responder, tts, outbox, log, history };
}

t.test(
  'both: published and spoken; a trigger while speaking waits in one slot, newer replaces it',
  async (t) => {
    const { published, responder, tts } = await setup(t);
    const a = await responder.trigger('button');
    const b = await responder.trigger('button');
    const c = await responder.trigger('command');
    t.ok(a && b && c);
    t.equal(published.length, 3, 'every trigger publishes at once');
    t.match(published[0], {
      topic: 'bookrec/devices/dev-a/recommendations',
      body: { schema: 1, deviceId: 'dev-a', trigger: 'button', source: 'fallback' },
    });
    t.ok(await a!.speech, 'the first is spoken');
    t.equal(await b!.speech, undefined, 'the second was replaced while waiting');
    t.ok(await c!.speech, 'the newest is spoken');
    t.equal(tts.said.length, 2);
    t.match(tts.said[0], /^Here are some books other readers love: /);
  },
);

t.test('one trigger after another, each awaiting its speech: every one is spoken', async (t) => {
  // speak-only: no publish to await, so the next trigger follows the last speech within a microtask.
  const { responder, tts } = await setup(t, { output: { mode: 'speak', count: 2, shareHistory: false } });
  for (let i = 0; i < 3; i++)
    t.ok(await (await responder.trigger('button'))?.speech, `speech ${i + 1} ended`);
  t.equal(tts.said.length, 3);
});

t.test('quiet hours: published, not spoken; publish-only and speak-only modes', async (t) => {
  const quiet = await setup(t, { quietHours: { start: '11:30', end: '13:00' } });
  const r = await quiet.responder.trigger('button');
  t.equal(r?.quiet, true);
  t.equal(await r?.speech, undefined);
  t.equal(quiet.tts.said.length, 0, 'nothing said in quiet hours');
  t.equal(quiet.published.length, 1, 'the JSON still goes out');
  const publishOnly = await setup(t, { output: { mode: 'publish', count: 2, shareHistory: false } });
  await (await publishOnly.responder.trigger('button'))?.speech;
  t.equal(publishOnly.tts.said.length, 0);
  const speakOnly = await setup(t, { output: { mode: 'speak', count: 2, shareHistory: false } });
  await (await speakOnly.responder.trigger('button'))?.speech;
  t.equal(speakOnly.published.length, 0);
  t.equal(speakOnly.tts.said.length, 1);
});

t.test('no model yet, and speech that fails: the service says so and goes on', async (t) => {
  const none = await setup(t, { model: () => undefined });
  t.equal(await none.responder.trigger('button'), undefined);
  t.same(none.tts.said, ['I have no book list yet. Please try again later.']);
  const failing = await setup(t);
  failing.tts.fail = true;
  const r = await failing.responder.trigger('button');
  t.equal(await r?.speech, undefined);
  t.ok(failing.log.lines.some((l) => l.msg === 'speech failed'));
  t.equal(failing.published.length, 1);
});

t.test(
  'hermes: answer with site and session; in quiet hours the session is ended without speech',
  async (t) => {
    for (const quiet of [false, true]) {
      const s = await setup(t, {
        quietHours: quiet ? { start: '11:00', end: '13:00' } : { start: '', end: '' },
      });
      const hermes = new HermesBridge({
        transport: s.client,
        outbox: s.outbox,
        responder: s.responder,
        intent: 'RecommendBook',
        lang: '',
        sites: ['bedroom'],
        log: s.log,
      });
      await hermes.start();
      s.broker.publish('hermes/intent/RecommendBook', 'not json', false);
      s.broker.publish('hermes/intent/Other', '{}', false);
      // Another room's satellite: this speaker does not answer for it.
      s.broker.publish(
        'hermes/intent/RecommendBook',
        JSON.stringify({ sessionId: 'k', siteId: 'kitchen' }),
        false,
      );
      s.broker.publish(
        'hermes/intent/RecommendBook',
        JSON.stringify({ sessionId: 'abc', siteId: 'bedroom' }),
        false,
      );
      const answer = await waitFor('the answer', () =>
        s.published.find((p) => p.topic.startsWith('hermes/')),
      );
      if (quiet) t.same(answer, { topic: 'hermes/dialogueManager/endSession', body: { sessionId: 'abc' } });
      else
        t.match(answer, {
          topic: 'hermes/tts/say',
          body: { siteId: 'bedroom', sessionId: 'abc', text: /other readers love/ },
        });
      t.notOk('lang' in answer.body, 'no lang when none is configured');
      t.equal(
        s.published.filter((p) => p.topic.startsWith('hermes/')).length,
        1,
        'one answer: the kitchen intent was not answered',
      );
      t.equal(s.tts.said.length, 0, 'the local speaker stays silent');
      await hermes.stop();
    }
  },
);

t.test(
  'hermes: a siteId or sessionId with control characters is refused, never echoed in a reply',
  async (t) => {
    const s = await setup(t);
    const hermes = new HermesBridge({
      transport: s.client,
      outbox: s.outbox,
      responder: s.responder,
      intent: 'RecommendBook',
      lang: '',
      sites: '*',
      log: s.log,
    });
    await hermes.start();
    t.teardown(() => hermes.stop());
    const hostile = [
      { sessionId: '\x1b]0;TERMPWNED\x07', siteId: 'bedroom' },
      { sessionId: 'a', siteId: 'x\n12:00:00 ERROR forged' },
      { sessionId: 'b\u2028c', siteId: 'bedroom' },
      { sessionId: 'd\u009be', siteId: 'bedroom' },
    ];
    for (const intent of hostile)
      s.broker.publish('hermes/intent/RecommendBook', JSON.stringify(intent), false);
    // The marker: a clean intent sent after them; once its answer is out, theirs would have been too.
    s.broker.publish(
      'hermes/intent/RecommendBook',
      JSON.stringify({ sessionId: 'clean', siteId: 'bedroom' }),
      false,
    );
    await waitFor('the answer to the clean intent', () =>
      s.published.find((p) => p.body.sessionId === 'clean'),
    );
    const answers = s.published.filter((p) => p.topic.startsWith('hermes/'));
    t.equal(answers.length, 1, 'only the clean intent was answered');
    t.notMatch(
      answers.flatMap((a) => Object.values(a.body)).join(' '),
      /[\p{Cc}\u2028]/u,
      'no control character in a reply',
    );
    const refused = s.log.lines.filter((l) => l.msg === 'hermes intent malformed: ignored');
    t.equal(refused.length, hostile.length, 'each refusal is logged');
    t.match(String(refused[0].problems), /sessionId must be .*no control characters/, 'the log says why');
  },
);

t.test('every answer is told to the quality counters: release and the books named', async (t) => {
  const answers: { release: { channel: string; version: number }; books: number[]; at: number }[] = [];
  const { responder } = await setup(t, {
    onAnswer: (release, books, at) => void answers.push({ release, books, at }),
  });
  const r = await responder.trigger('command');
  t.equal(answers.length, 1);
  t.match(answers[0].release, { channel: 'stable', version: 1 });
  t.same(
    answers[0].books,
    r!.message.books.map((b) => b.id),
  );
  t.equal(answers[0].at, new Date(2026, 0, 5, 12, 0).getTime());
});

t.test(
  'the history stays on the device: published answers name no history book unless allowed',
  async (t) => {
    const share = async (shareHistory: boolean) => {
      const s = await setup(t, { output: { mode: 'both', count: 2, shareHistory } });
      const finished = model.catalogue[4];
      await s.history.append({ bookId: finished.id, kind: 'finished', at: Date.UTC(2026, 0, 4) });
      const r = await s.responder.trigger('button');
      await r?.speech;
      return { s, r, finished };
    };
    const off = await share(false);
    t.equal(off.r?.message.source, 'model');
    const published = off.s.published[0].body as { basedOn: unknown; reason: string; text: string };
    t.equal(published.basedOn, null, 'no basedOn by default');
    t.equal(published.reason, 'based on your reading');
    t.match(published.text, /^Based on your reading, you might enjoy /);
    const title = off.finished.title.replace(/\s*\(.*\)$/, '');
    t.notOk(JSON.stringify(off.s.published).includes(title), 'the finished book is nowhere in what went out');
    t.notOk(JSON.stringify(off.r?.message).includes(title), 'nor in the reply a command gets');
    t.match(
      off.s.tts.said[0],
      new RegExp(`^Because you finished ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      'the local speaker still says why',
    );
    const on = await share(true);
    t.match(on.s.published[0].body, {
      basedOn: { id: on.finished.id, kind: 'finished' },
      reason: /^because you finished /,
    });
  },
);

t.test('hermes text: no markup, no control or invisible characters, capped', async (t) => {
  t.equal(hermesText('Dune <speak><prosody rate="x-slow">by</prosody></speak> & Emma'), 'Dune by and Emma');
  t.equal(hermesText('a\u0007b\u202Ec\u200Bd\n e'), 'a b c d e');
  t.equal(hermesText('x <unclosed'), 'x unclosed');
  const long = hermesText(`${'word '.repeat(500)}end`);
  t.ok(long.length <= HERMES_MAX_CHARS, `${long.length} characters`);
  t.match(long, /word…$/, 'cut at a word');
});
