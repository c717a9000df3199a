import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { BookrecError, errorMessage } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { EdgeListener, GpioLines } from './gpio.js';

/**
 * libgpiod's `gpiomon` (Debian package gpiod), which reads the GPIO character device: the interface
 * modern kernels want, and no native Node module. Run with spawn and an argument list (no shell); its
 * output format is fixed by --format so both libgpiod generations parse alike:
 *   v1 (Debian 12, Raspberry Pi OS bookworm): gpiomon -b -B <bias> -F '%e %o' <chip> <offsets...>  -> "1 17"
 *   v2 (libgpiod 2.x):  gpiomon --chip <chip> --bias <bias> --edges both --format '%E %o' <offsets...> -> "rising 17"
 * Lines are bounded (a line longer than MAX_LINE is dropped); if gpiomon dies it is started again with
 * a growing delay.
 */
export interface GpiomonContext {
  chip: string;
  bias: 'pull-up' | 'pull-down' | 'as-is';
  log: Logger;
  binary?: string;
  /** How long start() waits for gpiomon to fail at once (no such chip, no permission). */
  settleMs?: number;
}

const MAX_LINE = 256;

/** One gpiomon output line -> edge; undefined for anything else. Exported for tests. */
export function parseGpiomonLine(line: string): { offset: number; level: 0 | 1 } | undefined {
  const formatted = /^(rising|falling|0|1)\s+(\d+)$/i.exec(line.trim());
  if (formatted) {
    const rising = formatted[1] === '1' || formatted[1].toLowerCase() === 'rising';
    return { offset: Number(formatted[2]), level: rising ? 1 : 0 };
  }
  // v1's default format, should --format ever be dropped: "event:  RISING EDGE offset: 17 timestamp: [...]"
  const v1 = /^event:\s+(RISING|FALLING) EDGE offset:\s+(\d+)/.exec(line.trim());
  if (v1) return { offset: Number(v1[2]), level: v1[1] === 'RISING' ? 1 : 0 };
  return undefined;
}

export function gpiomonArgs(major: number, chip: string, bias: string, offsets: readonly number[]): string[] {
  const lines = offsets.map(String);
  if (major >= 2) return ['--chip', chip, '--bias', bias, '--edges', 'both', '--format', '%E %o', ...lines];
  return ['-b', '-B', bias, '-F', '%e %o', chip, ...lines];
}

export class GpiomonGpio implements GpioLines {
  readonly name = 'gpiomon';
  private readonly ctx: GpiomonContext;
  private child: ChildProcess | undefined;
  private running = false;
  private restartMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderr = '';

  constructor(ctx: GpiomonContext) {
    this.ctx = ctx;
  }

  private get binary(): string {
    return this.ctx.binary ?? 'gpiomon';
  }

  async start(offsets: readonly number[], onEdge: EdgeListener): Promise<void> {
    const major = await this.version();
    const args = gpiomonArgs(major, this.ctx.chip, this.ctx.bias, offsets);
    this.running = true;
    try {
      await this.launch(args, onEdge);
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  private version(): Promise<number> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['--version'], { timeout: 5000 }, (err, stdout) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          return reject(
            new BookrecError(
              'GPIO_UNAVAILABLE',
              missing
                ? 'gpiomon is not installed (apt-get install gpiod)'
                : `gpiomon --version: ${err.message}`,
            ),
          );
        }
        const m = /v(\d+)\.\d+/.exec(String(stdout));
        resolve(m ? Number(m[1]) : 1);
      });
    });
  }

  /** gpiomon died while running: start it again after a delay that doubles up to a minute. */
  private relaunch(args: string[], onEdge: EdgeListener, why: string): void {
    if (!this.running) return;
    this.ctx.log.error('gpiomon stopped: starting it again', { why, inMs: this.restartMs });
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.launch(args, onEdge).catch((err: unknown) => this.relaunch(args, onEdge, errorMessage(err)));
    }, this.restartMs);
    this.restartMs = Math.min(this.restartMs * 2, 60_000);
  }

  /** Spawns gpiomon; rejects if it exits within settleMs (the usual way a wrong chip shows). */
  private launch(args: string[], onEdge: EdgeListener): Promise<void> {
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.stderr = '';
    let carry = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (carry + chunk).split('\n');
      carry = parts.pop() ?? '';
      if (carry.length > MAX_LINE) carry = '';
      for (const line of parts) {
        const edge = line.length <= MAX_LINE ? parseGpiomonLine(line) : undefined;
        if (edge) {
          this.restartMs = 1000;
          onEdge(edge.offset, edge.level, Date.now());
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-1024);
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = setTimeout(() => {
        settled = true;
        resolve();
      }, this.ctx.settleMs ?? 300);
      const failed = (why: string) => {
        if (!settled) {
          settled = true;
          clearTimeout(settle);
          reject(new BookrecError('GPIO_UNAVAILABLE', `gpiomon ${args.join(' ')}: ${why}`));
          return;
        }
        if (this.child === child) this.relaunch(args, onEdge, why);
      };
      child.on('error', (err) => failed(err.message));
      child.on('exit', (code, signal) => failed(`exited with ${code ?? signal}: ${this.stderr.trim()}`));
    });
  }
}
