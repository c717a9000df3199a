import t from 'tap';
import { type ButtonAction, Buttons } from '../../../../agent/signals/gpio/buttons.js';
import { FakeGpio } from '../../../../agent/signals/gpio/fakeGpio.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pad(activeLow = true) {
  const gpio = new FakeGpio({ activeLow });
  const presses: ButtonAction[] = [];
  const buttons = new Buttons({
    gpio,
    pins: new Map<number, ButtonAction>([
      [17, 'recommend'],
      [27, 'like'],
      [22, 'skip'],
    ]),
    activeLow,
    debounceMs: 20,
    onPress: (a) => presses.push(a),
  });
  return { gpio, presses, buttons };
}

t.test('a bouncing contact is one press; each button has its action', async (t) => {
  const { gpio, presses, buttons } = pad();
  await buttons.start();
  await gpio.press(17, { bounces: 5, holdMs: 60 });
  await sleep(40);
  t.same(presses, ['recommend'], 'five bounces, one press, and the release is not a press');
  await gpio.press(27);
  await gpio.press(22);
  await sleep(40);
  t.same(presses, ['recommend', 'like', 'skip']);
  await buttons.stop();
});

t.test('a glitch shorter than the debounce time is no press; unwatched lines are ignored', async (t) => {
  const { gpio, presses, buttons } = pad();
  await buttons.start();
  gpio.edge(17, 0);
  await sleep(5);
  gpio.edge(17, 1);
  gpio.edge(5, 0);
  await sleep(60);
  t.same(presses, []);
  await buttons.stop();
});

t.test('active-high wiring: the rising edge is the press', async (t) => {
  const { gpio, presses, buttons } = pad(false);
  await buttons.start();
  await gpio.press(17, { holdMs: 50 });
  await sleep(40);
  t.same(presses, ['recommend']);
  await buttons.stop();
});
