import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type DeviceMode, MODE_SCHEMA } from '../common/protocol/mode.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { Outbox } from './outbox.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * Quiet mode: the `quiet` command turns speech off (answers are still published) until it is turned
 * on again; quiet hours come on top. Kept in the state folder (quiet.json, written atomically) so a
 * restart does not start talking, and published retained on devices/<id>/mode so whoever shows it (Home
 * Assistant's switch) shows the device's real state.
 */
export interface QuietModeContext {
  stateDir: string;
  outbox: Outbox;
  topics: TopicMap;
  deviceId: string;
  log: Logger;
  now?: () => Date;
}

const FILE = 'quiet.json';

export class QuietMode {
  private quiet = false;

  constructor(private readonly ctx: QuietModeContext) {}

  get on(): boolean {
    return this.quiet;
  }

  /** Reads the saved state; a missing or damaged file is "not quiet" (logged when damaged). */
  async start(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(join(this.ctx.stateDir, FILE), 'utf8')) as { quiet?: unknown };
      this.quiet = saved.quiet === true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.ctx.log.warn('quiet.json unreadable: not quiet', { error: errorMessage(err) });
    }
  }

  /** Sets it, saves it, publishes it; the reply's data. */
  async set(on: boolean): Promise<{ quiet: boolean }> {
    this.quiet = on;
    await writeFileAtomic(join(this.ctx.stateDir, FILE), JSON.stringify({ quiet: on }), STATE_FILE_MODE);
    this.ctx.log.info(on ? 'quiet mode on: no speech' : 'quiet mode off', {});
    await this.publish();
    return { quiet: on };
  }

  /** The retained mode message (on every connect, so a cleared topic comes back). */
  publish(): Promise<void> {
    const mode: DeviceMode = {
      schema: MODE_SCHEMA,
      deviceId: this.ctx.deviceId,
      quiet: this.quiet,
      at: (this.ctx.now ?? (() => new Date()))().toISOString(),
    };
    return this.ctx.outbox.send({
      topic: this.ctx.topics.device(this.ctx.deviceId, 'mode'),
      payload: JSON.stringify(mode),
      options: { retain: true, json: true },
      key: 'mode',
    });
  }
}
