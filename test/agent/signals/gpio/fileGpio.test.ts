import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { buildGpio, buttonSource } from '../../../../agent/signals/gpio/buttonSource.js';
import { FileGpio, parseLevels } from '../../../../agent/signals/gpio/fileGpio.js';
import { createMemoryLogger } from '../../../../common/log.js';
import { testConfig } from '../../helpers.js';

/** Replaces the levels file as a writer should: beside, then rename. */
async function setLevels(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

const waitFor = async (what: string, check: () => boolean) => {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

t.test('levels file parsing: "<offset> <level>" lines, junk skipped', async (t) => {
  t.same(
    [...parseLevels('17 0\n27=1\n 22 : 0 \n')],
    [
      [17, 0],
      [27, 1],
      [22, 0],
    ],
  );
  t.same([...parseLevels('# comment\n17 2\nabc\n-1 0\n17 0 extra\n\n')], []);
  t.same([...parseLevels(`${'x'.repeat(5000)}\n17 0`)], [], 'past 4 KiB is not a levels file');
});

t.test('changes of the file are edges; the first read is the baseline', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'lines');
  await setLevels(file, '17 0\n27 1\n');
  const gpio = new FileGpio({ file, pollMs: 5 });
  const edges: [number, number][] = [];
  await gpio.start([17, 27], (offset, level) => edges.push([offset, level]));
  t.equal(gpio.name, 'file');
  await setLevels(file, '17 1\n27 1\n99 0\n');
  await waitFor('rising 17', () => edges.length === 1);
  // Polls run in order: an edge from the levels present at start would have come before this one.
  t.same(edges, [[17, 1]], 'levels present at start are no edges; only the changed, watched line');
  await setLevels(file, '17 1\n27 0\n');
  await waitFor('falling 27', () => edges.length === 2);
  t.same(edges[1], [27, 0]);
  await gpio.stop();
  await setLevels(file, '17 0\n27 1\n');
  // The marker: a second reader polling as often sees a later change; had the stopped one still been
  // polling, it would have seen the earlier change first.
  const probe = new FileGpio({ file, pollMs: 5 });
  const probed: [number, number][] = [];
  await probe.start([27], (offset, level) => probed.push([offset, level]));
  await setLevels(file, '17 0\n27 0\n');
  await waitFor('the probe sees 27 fall', () => probed.length === 1);
  await probe.stop();
  t.equal(edges.length, 2, 'no edges after stop');
});

t.test('a missing file is no lines set; a line that appears later is an edge', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'lines');
  const gpio = new FileGpio({ file, pollMs: 5 });
  const edges: [number, number][] = [];
  await gpio.start([4], (offset, level) => edges.push([offset, level]));
  await setLevels(file, '4 0\n');
  await waitFor('the edge', () => edges.length === 1);
  t.same(edges, [[4, 0]]);
  await gpio.stop();
});

t.test('an unreadable levels file fails start with GPIO_UNAVAILABLE', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'a-folder');
  await mkdir(file);
  await t.rejects(
    new FileGpio({ file }).start([4], () => undefined),
    { code: 'GPIO_UNAVAILABLE' },
  );
});

t.test('settings: the file backend needs its file, and its presses go through Buttons', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'lines');
  const log = createMemoryLogger();
  t.throws(() => testConfig(dir, ['--gpio-backend', 'file', '--gpio-recommend', '17']), {
    code: 'CONFIG_INVALID',
    message: /gpio\.linesFile/,
  });
  const config = testConfig(dir, [
    '--gpio-backend',
    'file',
    '--gpio-recommend',
    '17',
    '--gpio-lines-file',
    file,
  ]);
  t.type(buildGpio(config, log), FileGpio);
  await setLevels(file, '17 1\n');
  const pressed: string[] = [];
  const buttons = buttonSource({
    config,
    sink: {
      text: async () => undefined,
      signal: async () => undefined,
      ask: () => pressed.push('recommend'),
      lastAnswerBook: () => undefined,
      catalogue: () => undefined,
      inHistory: () => false,
    },
    transport: () => {
      throw new Error('unused');
    },
    signalsTopic: 'unused',
    log,
  })!;
  await buttons.start();
  await setLevels(file, '17 0\n');
  await waitFor('the press', () => pressed.length === 1);
  await setLevels(file, '17 1\n');
  t.same(pressed, ['recommend']);
  await buttons.stop();
});
