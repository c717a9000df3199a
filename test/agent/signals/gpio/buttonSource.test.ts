import t from 'tap';
import { buildGpio, buttonSource } from '../../../../agent/signals/gpio/buttonSource.js';
import { FakeGpio } from '../../../../agent/signals/gpio/fakeGpio.js';
import { GpiomonGpio } from '../../../../agent/signals/gpio/gpiomonGpio.js';
import { OnoffGpio } from '../../../../agent/signals/gpio/onoffGpio.js';
import type { SignalSink } from '../../../../agent/signals/source.js';
import { createMemoryLogger } from '../../../../common/log.js';
import type { Signal } from '../../../../common/protocol/signals.js';
import { testConfig } from '../../helpers.js';

/** A sink that records what the buttons asked for. */
function recordingSink(lastBook: number | undefined) {
  const asked: number[] = [];
  const signals: Signal[] = [];
  const sink: SignalSink = {
    text: async () => undefined,
    signal: async (s) => {
      signals.push(s);
    },
    ask: () => asked.push(1),
    lastAnswerBook: () => lastBook,
    catalogue: () => undefined,
    inHistory: () => false,
  };
  return { sink, asked, signals };
}

const deps = (config: ReturnType<typeof testConfig>, sink: SignalSink, gpio?: FakeGpio) => ({
  config,
  sink,
  transport: () => {
    throw new Error('buttons do not use MQTT');
  },
  signalsTopic: 'unused',
  log: createMemoryLogger(),
  gpio,
});

t.test('the settings choose the GPIO backend; none means no button source', async (t) => {
  const dir = t.testdir();
  const log = createMemoryLogger();
  t.equal(buildGpio(testConfig(dir), log), undefined);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'onoff', '--gpio-skip', '22']), log), OnoffGpio);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'gpiomon', '--gpio-skip', '22']), log), GpiomonGpio);
  t.type(buildGpio(testConfig(dir, ['--gpio-backend', 'fake', '--gpio-skip', '22']), log), FakeGpio);
  t.equal(
    buttonSource(deps(testConfig(dir), recordingSink(undefined).sink)),
    undefined,
    'no GPIO, no buttons',
  );
});

t.test('recommend asks; like and skip become signals about the last answer’s first book', async (t) => {
  const dir = t.testdir();
  const config = testConfig(dir, [
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
  ]);
  const gpio = new FakeGpio();
  const rec = recordingSink(42);
  const source = buttonSource(deps(config, rec.sink, gpio))!;
  t.equal(source.name, 'gpio');
  t.equal(source.needs, 'local');
  await source.start();
  for (const pin of [1, 2, 3]) await gpio.press(pin, { holdMs: 5 });
  while (rec.signals.length < 2) await new Promise((r) => setTimeout(r, 5));
  t.equal(rec.asked.length, 1);
  t.same(
    rec.signals.map((s) => [s.bookId, s.kind]),
    [
      [42, 'liked'],
      [42, 'skipped'],
    ],
  );
  await source.stop();

  // Without an answer yet, like and skip have nothing to refer to: no signal.
  const none = recordingSink(undefined);
  const gpio2 = new FakeGpio();
  const quiet = buttonSource(deps(config, none.sink, gpio2))!;
  await quiet.start();
  await gpio2.press(2, { holdMs: 5 });
  await gpio2.press(1, { holdMs: 5 });
  while (none.asked.length < 1) await new Promise((r) => setTimeout(r, 5));
  t.same(none.signals, []);
  await quiet.stop();
});
