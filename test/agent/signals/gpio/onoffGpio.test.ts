import { join } from 'node:path';
import t from 'tap';
import { findChip, OnoffGpio, sysfsChips, sysfsNumber } from '../../../../agent/signals/gpio/onoffGpio.js';

/** A /sys/class/gpio as a Raspberry Pi 4 on kernel 6.6+ shows it: the header chip's base is 512. */
const PI4_SYSFS = {
  export: '',
  unexport: '',
  gpiochip512: { base: '512\n', ngpio: '58\n', label: 'pinctrl-bcm2711\n', device: { gpiochip0: {} } },
  gpiochip570: { base: '570\n', ngpio: '8\n', label: 'raspberrypi-exp-gpio\n', device: { gpiochip1: {} } },
};

t.test('chip base numbers from sysfs (kernel 6.6+: the header chip starts at 512)', async (t) => {
  const root = t.testdir(PI4_SYSFS);
  t.same(
    (await sysfsChips(root)).map((c) => [c.dir, c.base, c.label]),
    [
      ['gpiochip512', 512, 'pinctrl-bcm2711'],
      ['gpiochip570', 570, 'raspberrypi-exp-gpio'],
    ],
  );
  const header = await findChip(root, 'auto');
  t.equal(sysfsNumber(header, 17), 529, 'BCM 17 is sysfs GPIO 529, not 17');
  t.equal((await findChip(root, 'gpiochip0')).base, 512, 'the libgpiod name maps through device/');
  t.equal((await findChip(root, 'gpiochip1')).base, 570);
  t.equal((await findChip(root, 'raspberrypi-exp-gpio')).base, 570);
  t.equal((await findChip(root, 'gpiochip512')).base, 512);
  t.throws(() => sysfsNumber(header, 58), { code: 'GPIO_UNAVAILABLE', message: /outside gpiochip512/ });
  await t.rejects(findChip(root, 'gpiochip7'), {
    code: 'GPIO_UNAVAILABLE',
    message: /gpiochip512 "pinctrl-bcm2711" base 512/,
  });
});

t.test('older kernels (base 0) and odd trees', async (t) => {
  const old = t.testdir({
    gpiochip0: { base: '0', ngpio: '54', label: 'pinctrl-bcm2835' },
    gpiochip504: { base: '504', ngpio: '8', label: 'brcmvirt-gpio' },
  });
  t.equal(sysfsNumber(await findChip(old, 'auto'), 17), 17);
  const other = t.testdir({
    gpiochip100: { base: '100', ngpio: '16', label: 'some-expander' },
    gpiochipX: {},
  });
  t.equal((await findChip(other, 'auto')).base, 100, 'no Pi header chip: the lowest base');
  await t.rejects(findChip(t.testdir({}), 'auto'), { code: 'GPIO_UNAVAILABLE', message: /no GPIO chip/ });
  await t.rejects(sysfsChips(join(old, 'missing')), { code: 'GPIO_UNAVAILABLE', message: /no sysfs GPIO/ });
});

t.test('onoff is loaded lazily: when epoll is not built the error says what to do', async (t) => {
  const root = t.testdir(PI4_SYSFS);
  const g = new OnoffGpio({
    sysfsRoot: root,
    chip: 'auto',
    load: () => Promise.reject(new Error("Cannot find module '../build/Release/epoll.node'")),
  });
  await t.rejects(
    g.start([17], () => undefined),
    { code: 'GPIO_UNAVAILABLE', message: /epoll is not built.*--gpio-backend gpiomon/ },
  );
});

t.test('without onoff installed (the Debian package) the error says so and names gpiomon', async (t) => {
  const root = t.testdir(PI4_SYSFS);
  // The real failure of a missing package, from Node's own resolver.
  const missing = await import('onoff-is-not-installed-here' as string).catch((err: unknown) => err);
  const g = new OnoffGpio({ sysfsRoot: root, chip: 'auto', load: () => Promise.reject(missing) });
  await t.rejects(
    g.start([17], () => undefined),
    { code: 'GPIO_UNAVAILABLE', message: /not installed here.*--gpio-backend gpiomon/ },
  );
});

t.test(
  'with onoff loaded: sysfs numbers base + offset, edges delivered, lines released on stop',
  async (t) => {
    const root = t.testdir(PI4_SYSFS);
    const made: { n: number; cb?: (e: Error | null, v: 0 | 1) => void; unexported: boolean }[] = [];
    class FakeOnoff {
      static accessible = true;
      private readonly rec: (typeof made)[number];
      constructor(n: number) {
        this.rec = { n, unexported: false };
        made.push(this.rec);
      }
      watch(cb: (e: Error | null, v: 0 | 1) => void) {
        this.rec.cb = cb;
      }
      unwatchAll() {
        this.rec.cb = undefined;
      }
      unexport() {
        this.rec.unexported = true;
      }
    }
    const g = new OnoffGpio({ sysfsRoot: root, chip: 'gpiochip0', load: async () => ({ Gpio: FakeOnoff }) });
    const edges: [number, number][] = [];
    await g.start([17, 27], (o, l) => edges.push([o, l]));
    t.same(
      made.map((m) => m.n),
      [529, 539],
    );
    made[1].cb?.(null, 0);
    made[0].cb?.(new Error('EIO'), 1);
    t.same(edges, [[27, 0]], 'errors from onoff are not edges');
    await g.stop();
    t.ok(made.every((m) => m.unexported && !m.cb));
    FakeOnoff.accessible = false;
    await t.rejects(
      g.start([17], () => undefined),
      { message: /not accessible/ },
    );
  },
);
