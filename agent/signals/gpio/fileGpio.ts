import { readFile } from 'node:fs/promises';
import { BookrecError } from '../../../common/errors.js';
import type { EdgeListener, GpioLines } from './gpio.js';

/**
 * GPIO lines whose levels are set by a small text file: one `<offset> <level>` pair per line
 * ("17 0"). For demos and for driving an agent in another process on a machine without pins: the
 * in-process fake can only be pressed by code in the same process, this one by anything that can
 * write a file (`bookrec demo` presses the recommend button this way). The file is polled, and a line
 * whose level differs from the last read is an edge; the first read is the baseline and gives none, as
 * a real chip reports changes, not levels. A missing file means no line is set. Writers should replace
 * the file atomically (write beside, rename) so a half-written file is never read.
 */
export interface FileGpioContext {
  file: string;
  /** How often the file is read. Well under the debounce time, so a held press is seen. */
  pollMs?: number;
}

/** The file is a handful of lines; anything past this is not a levels file and is ignored. */
const MAX_BYTES = 4096;

/** `<offset> <level>` lines -> levels; other lines (comments, garbage) are skipped. Exported for tests. */
export function parseLevels(text: string): Map<number, 0 | 1> {
  const levels = new Map<number, 0 | 1>();
  for (const line of text.slice(0, MAX_BYTES).split('\n')) {
    const m = /^\s*(\d{1,4})\s*[ =:]\s*([01])\s*$/.exec(line);
    if (m) levels.set(Number(m[1]), m[2] === '1' ? 1 : 0);
  }
  return levels;
}

export class FileGpio implements GpioLines {
  readonly name = 'file';
  private readonly ctx: FileGpioContext;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private levels = new Map<number, 0 | 1>();

  constructor(ctx: FileGpioContext) {
    this.ctx = ctx;
  }

  async start(offsets: readonly number[], onEdge: EdgeListener): Promise<void> {
    const watched = new Set(offsets);
    this.levels = await this.read(true);
    this.running = true;
    const poll = async () => {
      // A read that fails for a moment (the writer's rename in between) is no change, not a fault.
      const now = await this.read(false).catch(() => this.levels);
      if (!this.running) return;
      for (const [offset, level] of now) {
        if (watched.has(offset) && this.levels.get(offset) !== level) onEdge(offset, level, Date.now());
      }
      this.levels = now;
      this.timer = setTimeout(poll, this.ctx.pollMs ?? 10);
    };
    this.timer = setTimeout(poll, this.ctx.pollMs ?? 10);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
  }

  private async read(first: boolean): Promise<Map<number, 0 | 1>> {
    try {
      return parseLevels(await readFile(this.ctx.file, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return new Map();
      if (first) {
        throw new BookrecError('GPIO_UNAVAILABLE', `GPIO levels file ${this.ctx.file}: ${code ?? err}`);
      }
      throw err;
    }
  }
}
