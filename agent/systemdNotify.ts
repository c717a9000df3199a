import { execFile } from 'node:child_process';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { realTimers, type Timers, unrefTimer } from '../common/protocol/transport.js';

/**
 * systemd's notify protocol through the `systemd-notify` tool (no native module; the unit needs
 * NotifyAccess=all because the message comes from a child process). A no-op when NOTIFY_SOCKET is unset,
 * i.e. off systemd. The watchdog interval comes from WATCHDOG_USEC: pinging at half of it from a timer
 * on the event loop means a blocked loop stops the pings and systemd restarts the service.
 */
export type NotifyRunner = (args: string[]) => Promise<void>;

export interface SystemdNotifyContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Runs systemd-notify; tests hand in a recorder. */
  run?: NotifyRunner;
  /** The watchdog's clock (tests drive a fake one). */
  timers?: Timers;
}

const runTool: NotifyRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('systemd-notify', args, { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
  });

export class SystemdNotify {
  private readonly ctx: SystemdNotifyContext;
  private timer: unknown;
  private readonly timers: Timers;

  constructor(ctx: SystemdNotifyContext) {
    this.ctx = ctx;
    this.timers = ctx.timers ?? realTimers;
  }

  get enabled(): boolean {
    return Boolean(this.ctx.env.NOTIFY_SOCKET);
  }

  /** Half the watchdog interval in ms, or undefined when systemd set no watchdog for this process. */
  get watchdogMs(): number | undefined {
    const usec = Number(this.ctx.env.WATCHDOG_USEC);
    const pid = this.ctx.env.WATCHDOG_PID;
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return undefined;
    if (pid && Number(pid) !== process.pid) return undefined;
    return Math.max(100, Math.floor(usec / 2000));
  }

  async ready(status: string): Promise<void> {
    await this.send([`--pid=${process.pid}`, '--ready', `--status=${status}`]);
    const every = this.watchdogMs;
    if (every !== undefined && this.timer === undefined) this.pingEvery(every);
  }

  /** One ping per period, each timer set by the last: the pings stop when the event loop does. */
  private pingEvery(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      void this.send([`--pid=${process.pid}`, 'WATCHDOG=1']);
      this.pingEvery(ms);
    }, ms);
    unrefTimer(this.timer);
  }

  async status(text: string): Promise<void> {
    await this.send([`--status=${text}`]);
  }

  async stopping(): Promise<void> {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.send(['STOPPING=1']);
  }

  /** Never throws: a notify that fails is logged; systemd's timeouts are the backstop. */
  private async send(args: string[]): Promise<void> {
    if (!this.enabled) return;
    try {
      await (this.ctx.run ?? runTool)(args);
    } catch (err) {
      this.ctx.log.warn('systemd-notify failed', { args, error: errorMessage(err) });
    }
  }
}
