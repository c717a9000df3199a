import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { GpiomonGpio, gpiomonArgs, parseGpiomonLine } from '../../../../agent/signals/gpio/gpiomonGpio.js';
import { createMemoryLogger } from '../../../../common/log.js';

/**
 * There are no GPIO chips on this machine: a fake `gpiomon` on PATH prints what the real one prints
 * (the --format lines, or its v1 default lines) and records the arguments it was given.
 */
async function fakeGpiomon(dir: string, version: string, body: string): Promise<void> {
  const script = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) ${version}"; echo "Copyright (C) 2017-2018"; exit 0; fi
printf '%s\\n' "$@" > "${dir}/args"
${body}
`;
  await writeFile(join(dir, 'gpiomon'), script);
  await chmod(join(dir, 'gpiomon'), 0o755);
}

function onPath(t: { teardown(fn: () => void): void }, dir: string): void {
  const old = process.env.PATH;
  process.env.PATH = `${dir}:${old}`;
  t.teardown(() => {
    process.env.PATH = old;
  });
}

const waitFor = async (what: string, check: () => boolean) => {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

t.test('line parsing: formatted (v1 and v2) and v1 default lines; junk is ignored', async (t) => {
  t.same(parseGpiomonLine('1 17'), { offset: 17, level: 1 });
  t.same(parseGpiomonLine('0 27'), { offset: 27, level: 0 });
  t.same(parseGpiomonLine('rising 4'), { offset: 4, level: 1 });
  t.same(parseGpiomonLine('falling 4\r'), { offset: 4, level: 0 });
  t.same(parseGpiomonLine('event:  RISING EDGE offset: 17 timestamp: [    1234.567890123]'), {
    offset: 17,
    level: 1,
  });
  t.same(parseGpiomonLine('event: FALLING EDGE offset: 22 timestamp: [1.2]'), { offset: 22, level: 0 });
  for (const junk of ['', 'hello', '2 17', '1 -3', '1 17 extra'])
    t.equal(parseGpiomonLine(junk), undefined, junk);
  t.same(gpiomonArgs(1, 'gpiochip0', 'pull-up', [17, 27]), [
    '-b',
    '-B',
    'pull-up',
    '-F',
    '%e %o',
    'gpiochip0',
    '17',
    '27',
  ]);
  t.same(gpiomonArgs(2, 'gpiochip4', 'pull-down', [5]), [
    '--chip',
    'gpiochip4',
    '--bias',
    'pull-down',
    '--edges',
    'both',
    '--format',
    '%E %o',
    '5',
  ]);
});

t.test('v1: edges from gpiomon reach the listener; stop ends the process', async (t) => {
  const dir = t.testdir();
  onPath(t, dir);
  await fakeGpiomon(
    dir,
    'v1.6.3',
    `echo "0 17"; echo "garbage"; echo "1 17"; echo "event: FALLING EDGE offset: 27 timestamp: [1.0]"; exec sleep 30`,
  );
  const edges: [number, number][] = [];
  const g = new GpiomonGpio({ chip: 'gpiochip0', bias: 'pull-up', log: createMemoryLogger(), settleMs: 100 });
  await g.start([17, 27], (o, l) => edges.push([o, l]));
  await waitFor('three edges', () => edges.length === 3);
  t.same(edges, [
    [17, 0],
    [17, 1],
    [27, 0],
  ]);
  t.same(
    (await readFile(join(dir, 'args'), 'utf8')).trim().split('\n'),
    ['-b', '-B', 'pull-up', '-F', '%e %o', 'gpiochip0', '17', '27'],
    'argument list, no shell',
  );
  await g.stop();
});

t.test('v2 arguments, and a gpiomon that dies is started again', async (t) => {
  const dir = t.testdir();
  onPath(t, dir);
  // Dies after its first event (once), then behaves.
  await fakeGpiomon(
    dir,
    'v2.1',
    `echo "falling 5"; if [ ! -f "${dir}/died" ]; then touch "${dir}/died"; sleep 0.3; exit 3; fi; exec sleep 30`,
  );
  const edges: number[] = [];
  const log = createMemoryLogger();
  const g = new GpiomonGpio({ chip: 'gpiochip4', bias: 'pull-down', log, settleMs: 100 });
  await g.start([5], (o) => edges.push(o));
  await waitFor('the restart', () => edges.length === 2);
  t.match((await readFile(join(dir, 'args'), 'utf8')).trim().split('\n'), [
    '--chip',
    'gpiochip4',
    '--bias',
    'pull-down',
    '--edges',
    'both',
    '--format',
    '%E %o',
    '5',
  ]);
  t.ok(log.lines.some((l) => l.msg === 'gpiomon stopped: starting it again'));
  await g.stop();
});

t.test('no chip, or no gpiomon at all: a clear GPIO_UNAVAILABLE', async (t) => {
  const dir = t.testdir();
  onPath(t, dir);
  await fakeGpiomon(
    dir,
    'v1.6.3',
    `echo "gpiomon: error waiting for events: No such file or directory" >&2; exit 1`,
  );
  const g = new GpiomonGpio({ chip: 'gpiochip9', bias: 'pull-up', log: createMemoryLogger(), settleMs: 500 });
  await t.rejects(
    g.start([17], () => undefined),
    { code: 'GPIO_UNAVAILABLE', message: /exited with 1: gpiomon: error waiting/ },
  );
  const missing = new GpiomonGpio({
    chip: 'x',
    bias: 'pull-up',
    log: createMemoryLogger(),
    binary: join(dir, 'nope'),
  });
  await t.rejects(
    missing.start([17], () => undefined),
    { code: 'GPIO_UNAVAILABLE', message: /apt-get install gpiod/ },
  );
});
