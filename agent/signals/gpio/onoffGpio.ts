import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError, errorMessage } from '../../../common/errors.js';
import type { EdgeListener, GpioLines } from './gpio.js';

/** The part of onoff's Gpio class used here. */
interface OnoffLine {
  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: (new (gpio: number, direction: 'in', edge: 'both') => OnoffLine) & { accessible: boolean };
}

export interface SysfsChip {
  /** Folder name under the sysfs root, e.g. gpiochip512. */
  dir: string;
  base: number;
  ngpio: number;
  label: string;
}

/** Every GPIO chip the sysfs interface shows, with its base number. */
export async function sysfsChips(root: string): Promise<SysfsChip[]> {
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (err) {
    throw new BookrecError(
      'GPIO_UNAVAILABLE',
      `${root}: ${errorMessage(err)} (no sysfs GPIO on this kernel?)`,
    );
  }
  const chips: SysfsChip[] = [];
  for (const dir of names) {
    const read = async (f: string) => (await readFile(join(root, dir, f), 'utf8')).trim();
    const base = Number(await read('base'));
    const ngpio = Number(await read('ngpio'));
    if (!Number.isInteger(base) || !Number.isInteger(ngpio)) continue;
    chips.push({ dir, base, ngpio, label: await read('label').catch(() => '') });
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** The Raspberry Pi header's controllers: BCM2835/6/7 (Pi 1-3, Zero), BCM2711 (Pi 4), RP1 (Pi 5). */
const PI_HEADER = /^pinctrl-(bcm2835|bcm2711|bcm2712|rp1)$/;

/**
 * Finds the chip to use. Since kernel 6.6 sysfs GPIO numbers no longer start at 0 (the Pi's header chip
 * sits at 512 or higher), so a line's sysfs number is base + offset, never the offset alone. `chip` may
 * be a sysfs folder name (gpiochip512), a label (pinctrl-bcm2711), the character-device name libgpiod
 * uses (gpiochip0, found as <root>/<dir>/device/gpiochip0), or "auto": the Pi header chip, else the
 * chip with the lowest base.
 */
export async function findChip(root: string, chip: string): Promise<SysfsChip> {
  const chips = await sysfsChips(root);
  if (chips.length === 0) throw new BookrecError('GPIO_UNAVAILABLE', `no GPIO chip under ${root}`);
  if (chip === 'auto') return chips.find((c) => PI_HEADER.test(c.label)) ?? chips[0];
  const byName = chips.find((c) => c.dir === chip || c.label === chip);
  if (byName) return byName;
  for (const c of chips) {
    const found = await stat(join(root, c.dir, 'device', chip)).catch(() => undefined);
    if (found) return c;
  }
  throw new BookrecError(
    'GPIO_UNAVAILABLE',
    `GPIO chip ${JSON.stringify(chip)} not found under ${root} (chips: ${chips.map((c) => `${c.dir} "${c.label}" base ${c.base}`).join(', ')})`,
  );
}

export function sysfsNumber(chip: SysfsChip, offset: number): number {
  if (offset < 0 || offset >= chip.ngpio) {
    throw new BookrecError('GPIO_UNAVAILABLE', `line ${offset} is outside ${chip.dir} (${chip.ngpio} lines)`);
  }
  return chip.base + offset;
}

export interface OnoffContext {
  sysfsRoot: string;
  chip: string;
  /** Loads onoff; replaced in tests. */
  load?: () => Promise<OnoffModule>;
}

/** Why onoff did not load, and what to do: not installed at all (the Debian package), or epoll unbuilt. */
export function onoffLoadFailure(err: unknown): string {
  // Node's ESM resolver found no onoff package at all; an unbuilt epoll is "Cannot find module ...epoll.node".
  const notInstalled = /Cannot find package/.test(errorMessage(err));
  if (notInstalled)
    return 'the onoff GPIO backend is not installed here (the bookrec-agent Debian package leaves it out: its native module epoll would tie the package to one architecture and Node version). Use --gpio-backend gpiomon (Debian package gpiod), which needs no native module';
  return `the onoff GPIO backend cannot load (${errorMessage(err)}): its native module epoll is not built. Build it with \`cd node_modules/epoll && npx node-gyp rebuild\` (needs a C++ toolchain and Node headers), or use --gpio-backend gpiomon`;
}

/**
 * onoff (sysfs GPIO, interrupts via its native `epoll` dependency). Loaded lazily: npm 11 does not run
 * epoll's build script unless approved, and the agent must run without it when this backend is not
 * chosen; when it is chosen and cannot load, the error says what to do.
 */
export class OnoffGpio implements GpioLines {
  readonly name = 'onoff';
  private readonly ctx: OnoffContext;
  private lines: OnoffLine[] = [];

  constructor(ctx: OnoffContext) {
    this.ctx = ctx;
  }

  async start(offsets: readonly number[], onEdge: EdgeListener): Promise<void> {
    const chip = await findChip(this.ctx.sysfsRoot, this.ctx.chip);
    const numbers = offsets.map((o) => sysfsNumber(chip, o));
    let mod: OnoffModule;
    try {
      mod = await (this.ctx.load ?? (() => import('onoff') as Promise<OnoffModule>))();
    } catch (err) {
      throw new BookrecError('GPIO_UNAVAILABLE', onoffLoadFailure(err));
    }
    if (!mod.Gpio.accessible)
      throw new BookrecError('GPIO_UNAVAILABLE', 'onoff: sysfs GPIO is not accessible here');
    try {
      for (const [i, n] of numbers.entries()) {
        const line = new mod.Gpio(n, 'in', 'both');
        this.lines.push(line);
        line.watch((err, value) => {
          if (!err) onEdge(offsets[i], value, Date.now());
        });
      }
    } catch (err) {
      await this.stop();
      throw new BookrecError('GPIO_UNAVAILABLE', `onoff: ${errorMessage(err)} (user in group gpio?)`);
    }
  }

  async stop(): Promise<void> {
    for (const line of this.lines) {
      line.unwatchAll();
      line.unexport();
    }
    this.lines = [];
  }
}
