import t from 'tap';
import { buildButtons, buildGpio, buildTts } from '../../agent/serviceParts.js';
import { FakeGpio } from '../../agent/signals/gpio/fakeGpio.js';
import { GpiomonGpio } from '../../agent/signals/gpio/gpiomonGpio.js';
import { OnoffGpio } from '../../agent/signals/gpio/onoffGpio.js';
import { EspeakTts } from '../../agent/speech/espeakTts.js';
import { SayTts } from '../../agent/speech/sayTts.js';
import { createMemoryLogger } from '../../common/log.js';
import { testConfig } from './helpers.js';

t.test('the settings choose the adapters', async (t) => {
  const dir = t.testdir();
  const log = createMemoryLogger();
  t.equal(buildTts(testConfig(dir)), undefined, 'tts none');
  t.type(buildTts(testConfig(dir, ['--tts', 'espeak-ng', '--audio', 'none'])), EspeakTts);
  t.type(buildTts(testConfig(dir, ['--tts', 'espeak-ng'])), EspeakTts);
  t.type(buildTts(testConfig(dir, ['--tts', 'festival', '--tts-voice', 'voice_kal_diphone'])), SayTts);
  t.equal(buildGpio(testConfig(dir), log), undefined);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'onoff', '--gpio-skip', '22']), log), OnoffGpio);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'gpiomon', '--gpio-skip', '22']), log), GpiomonGpio);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'fake', '--gpio-skip', '22']), log), FakeGpio);
  t.equal(
    buildButtons(testConfig(dir), undefined, log, () => undefined),
    undefined,
    'no GPIO, no buttons',
  );
  const gpio = new FakeGpio();
  const pressed: string[] = [];
  const buttons = buildButtons(
    testConfig(dir, [
      '--gpio-backend',
      'fake',
      '--gpio-recommend',
      '1',
      '--gpio-like',
      '2',
      '--gpio-skip',
      '3',
      '--gpio-debounce-ms',
      '0',
    ]),
    gpio,
    log,
    (a) => pressed.push(a),
  );
  await buttons?.start();
  for (const pin of [1, 2, 3]) await gpio.press(pin, { holdMs: 5 });
  await new Promise((r) => setTimeout(r, 20));
  t.same(pressed, ['recommend', 'like', 'skip']);
  await buttons?.stop();
});
