import t from 'tap';
import { type ButtonAction, Buttons } from '../../../../agent/signals/gpio/buttons.js';
import { FakeGpio } from '../../../../agent/signals/gpio/fakeGpio.js';
import { FakeClock } from '../../../helpers/fakeClock.js';

/** Debounce on a fake clock: each case is exact to the millisecond and waits for nothing real. */
function pad(activeLow = true) {
  const clock = new FakeClock();
  const gpio = new FakeGpio({ activeLow, timers: clock });
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
    timers: clock,
  });
  return { clock, gpio, presses, buttons };
}

t.test('a bouncing contact is one press, taken when the level has held debounceMs', async (t) => {
  const { clock, gpio, presses, buttons } = pad();
  await buttons.start();
  const held = gpio.press(17, { bounces: 5, holdMs: 60 });
  clock.advance(19);
  t.same(presses, [], 'not yet: the pressed level has held 19 ms of 20');
  clock.advance(1);
  t.same(presses, ['recommend'], 'five bounces, one press, at 20 ms');
  clock.advance(40);
  await held;
  clock.advance(100);
  t.same(presses, ['recommend'], 'the release is not a press');
  t.equal(clock.timers, 0, 'no timer left behind');
  await buttons.stop();
});

t.test('each button has its action', async (t) => {
  const { clock, gpio, presses, buttons } = pad();
  await buttons.start();
  const a = gpio.press(27, { holdMs: 50 });
  const b = gpio.press(22, { holdMs: 50 });
  clock.advance(200);
  await Promise.all([a, b]);
  t.same(presses, ['like', 'skip']);
  await buttons.stop();
});

t.test('a glitch shorter than the debounce time is no press; unwatched lines are ignored', async (t) => {
  const { clock, gpio, presses, buttons } = pad();
  await buttons.start();
  gpio.edge(17, 0);
  clock.advance(19);
  gpio.edge(17, 1);
  gpio.edge(5, 0);
  clock.advance(1_000);
  t.same(presses, [], 'a 19 ms low on a 20 ms debounce: nothing');
  gpio.edge(17, 0);
  clock.advance(20);
  t.same(presses, ['recommend'], 'the same line held 20 ms: a press (the glitch left no state behind)');
  await buttons.stop();
});

t.test('stop clears the pending debounce: no press after stop', async (t) => {
  const { clock, gpio, presses, buttons } = pad();
  await buttons.start();
  gpio.edge(17, 0);
  await buttons.stop();
  clock.advance(1_000);
  t.same(presses, []);
  t.equal(clock.timers, 0);
});

t.test('active-high wiring: the rising edge is the press', async (t) => {
  const { clock, gpio, presses, buttons } = pad(false);
  await buttons.start();
  const held = gpio.press(17, { holdMs: 50 });
  clock.advance(50);
  await held;
  clock.advance(100);
  t.same(presses, ['recommend']);
  await buttons.stop();
});
