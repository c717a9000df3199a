import t from 'tap';
import { buildTts } from '../../agent/serviceParts.js';
import { EspeakTts } from '../../agent/speech/espeakTts.js';
import { SayTts } from '../../agent/speech/sayTts.js';
import { testConfig } from './helpers.js';

t.test('the settings choose the speech adapters', async (t) => {
  const dir = t.testdir();
  t.equal(buildTts(testConfig(dir)), undefined, 'tts none');
  t.type(buildTts(testConfig(dir, ['--tts', 'espeak-ng', '--audio', 'none'])), EspeakTts);
  t.type(buildTts(testConfig(dir, ['--tts', 'espeak-ng'])), EspeakTts);
  t.type(buildTts(testConfig(dir, ['--tts', 'festival', '--tts-voice', 'voice_kal_diphone'])), SayTts);
});
