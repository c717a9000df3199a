import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AplaySink } from '../../../agent/speech/aplaySink.js';
import { EspeakTts } from '../../../agent/speech/espeakTts.js';
import { plainSpeech } from '../../../agent/speech/tts.js';
import { wavLevels } from '../helpers.js';

/** A loudspeaker stand-in: there is no sound card here. */
function recordingSink() {
  const played: string[] = [];
  return { played, play: async (wav: string) => void played.push(wav) };
}

t.test('espeak-ng writes a WAV with real sound and hands it to the sink', async (t) => {
  const dir = t.testdir();
  const sink = recordingSink();
  const tts = new EspeakTts({ dir, voice: 'en', rate: 170, sink });
  const result = await tts.speak('Because you finished The Hobbit, you might enjoy Dune by Frank Herbert.');
  t.equal(result.wav, join(dir, 'last.wav'));
  t.same(sink.played, [result.wav]);
  const levels = await wavLevels(result.wav!);
  t.ok(
    levels.samples > levels.rate,
    `more than a second of audio (${levels.samples} samples at ${levels.rate} Hz)`,
  );
  t.ok(levels.peak > 0.2, `peak ${levels.peak.toFixed(3)} is loud enough to be speech`);
  t.ok(levels.rms > 0.02, `RMS ${levels.rms.toFixed(3)} is not silence`);
  t.ok(result.synthesisMs > 0 && result.totalMs >= result.synthesisMs);
});

t.test('hostile text is only ever spoken: no option, no shell, no command runs', async (t) => {
  const dir = t.testdir();
  const marker = join(dir, 'pwned');
  const tts = new EspeakTts({ dir, voice: 'en', rate: 170, sink: recordingSink() });
  const hostile = `--version -w /etc/x $(touch ${marker}) \`touch ${marker}\`; touch ${marker} ") (system "touch ${marker}") ("\u0007\u001b[31m`;
  const result = await tts.speak(hostile);
  t.ok((await wavLevels(result.wav!)).peak > 0.1, 'it was spoken');
  t.notOk(existsSync(marker), 'nothing ran');
  t.equal(plainSpeech('a\u0007b\u001b[31m  c\n\nd'), 'a b [31m c d', 'control characters become spaces');
  t.equal(plainSpeech('x'.repeat(5000)).length, 2000, 'length is capped');
});

t.test('failures are TTS_FAILED with the reason', async (t) => {
  const dir = t.testdir();
  // espeak-ng falls back to its default voice for an unknown one; an engine that fails is the case here.
  const failing = new EspeakTts({ dir, voice: 'en', rate: 170, sink: recordingSink(), binary: 'false' });
  await t.rejects(failing.speak('hello'), { code: 'TTS_FAILED', message: /^espeak-ng: exit 1$/ });
  const missing = new EspeakTts({
    dir,
    voice: 'en',
    rate: 170,
    sink: recordingSink(),
    binary: join(dir, 'nope'),
  });
  await t.rejects(missing.speak('hello'), { code: 'TTS_FAILED', message: /not installed/ });
});

t.test('aplay plays through ALSA (the null device: no sound card here) and reports failures', async (t) => {
  const dir = t.testdir();
  const tts = new EspeakTts({ dir, voice: 'en', rate: 170, sink: new AplaySink({ device: 'null' }) });
  const result = await tts.speak('Testing the player.');
  t.ok(result.totalMs >= result.synthesisMs);
  // One short line (issue 21 item 9): the exit and aplay's own last line, not ALSA's dozen lines twice.
  const failed = await new AplaySink({ device: 'hw:9,9' }).play(result.wav!).catch((err: Error) => err);
  t.match(failed, { code: 'AUDIO_FAILED', message: /^aplay -D hw:9,9: exit 1: audio open error: .+$/ });
  const message = (failed as Error).message;
  t.notMatch(message, /ALSA lib|Command failed|\n/, 'no ALSA chatter, no repeated command');
  t.equal(message.split('audio open error').length, 2, 'the reason once');
  await new AplaySink({ device: 'null' }).probe();
  await t.rejects(new AplaySink({ device: 'hw:9,9' }).probe(), { message: /^aplay -D hw:9,9: exit 1: / });
});
