import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sayModule from 'say';
import t from 'tap';
import { festivalSafe } from '../../../agent/speech/festivalText.js';
import { SayTts } from '../../../agent/speech/sayTts.js';

type SayClass = new (
  platform?: string,
) => {
  speak(text: string, voice: string | undefined, speed: number | undefined, cb: (err: unknown) => void): void;
};
const Say = (sayModule as unknown as { Say: SayClass }).Say;

const hasFestival = ['/usr/bin/festival', '/usr/local/bin/festival'].some((p) => existsSync(p));

t.test('festivalSafe keeps words and drops everything that can end or escape a Scheme string', async (t) => {
  t.equal(festivalSafe('The "Best" Book (Vol. 2) \\ x'), 'The Best Book Vol. 2 x');
  t.equal(festivalSafe("Harry Potter and the Sorcerer's Stone"), "Harry Potter and the Sorcerer's Stone");
  t.equal(festivalSafe('Les Misérables & Cie: Bd. 1; ok? yes!'), 'Les Miserables and Cie: Bd. 1; ok? yes!');
  t.equal(festivalSafe('") (system "touch /tmp/pwned") ("'), 'system touch tmp pwned');
  t.equal(festivalSafe('x'.repeat(5000)).length, 1000);
  for (const c of ['"', '\\', '(', ')', '`', '$', '#', '\n', '|'])
    t.notOk(festivalSafe(`a${c}b`).includes(c), JSON.stringify(c));
});

t.test(
  'SayTts hands say only sanitised text, its own voice, and no speed (say would build a shell line from it)',
  async (t) => {
    const calls: [string, string | undefined, number | undefined][] = [];
    class FakeSay {
      child = null;
      speak(text: string, voice: string | undefined, speed: number | undefined, cb: (err: unknown) => void) {
        calls.push([text, voice, speed]);
        setImmediate(() => cb(null));
      }
    }
    const tts = new SayTts({ voice: 'voice_kal_diphone', sayClass: FakeSay });
    await tts.speak('Because you liked "Dune" (Dune, #1), try this.');
    t.same(calls, [['Because you liked Dune Dune, 1 , try this.', 'voice_kal_diphone', undefined]]);
    t.same(
      await tts.speak('"()"'),
      { synthesisMs: 0, totalMs: 0 },
      'nothing left to say: festival is not run',
    );
  },
);

t.test('real festival: injection through say runs a command, through SayTts it does not', async (t) => {
  if (!hasFestival) {
    const why = 'festival is not installed (apt-get install festival festvox-kallpc16k; .ci/run does it)';
    if (process.env.CI) t.fail(`${why}; CI requires it`);
    else t.skip(why, () => undefined);
    return;
  }
  const dir = t.testdir();
  const marker = join(dir, 'pwned');
  const title = `A Book") (system "touch ${marker}") ("`;
  // The control: say alone is vulnerable, so this test is able to see an injection when one happens.
  await new Promise<void>((resolve) => new Say('linux').speak(title, undefined, undefined, () => resolve()));
  await new Promise((r) => setTimeout(r, 200));
  t.ok(existsSync(marker), 'unsanitised text through say ran festival (system ...): the injection is real');

  const safeMarker = join(dir, 'pwned-safe');
  const tts = new SayTts({ voice: '', timeoutMs: 20_000 });
  // No sound card here: festival may fail to play (its aplay has no device); what matters is that
  // the crafted text did not run anything.
  await tts
    .speak(title.replace(marker, safeMarker))
    .catch((err: Error) => t.match(err, { code: 'TTS_FAILED' }));
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(existsSync(safeMarker), 'the same title through SayTts ran nothing');
});

t.test('festival missing: a TTS_FAILED error, not a crash', async (t) => {
  const old = process.env.PATH;
  process.env.PATH = t.testdir();
  t.teardown(() => {
    process.env.PATH = old;
  });
  await t.rejects(new SayTts({ voice: '' }).speak('hello'), { code: 'TTS_FAILED', message: /festival/ });
});
