import { execFile } from 'node:child_process';
import { BookrecError } from '../../common/errors.js';
import type { AudioSink } from './tts.js';

/** Plays a WAV with ALSA's aplay via execFile (no shell); the device is a setting (aplay -D). */
export class AplaySink implements AudioSink {
  private readonly device: string;
  private readonly timeoutMs: number;

  constructor(ctx: { device: string; timeoutMs?: number }) {
    this.device = ctx.device;
    this.timeoutMs = ctx.timeoutMs ?? 120_000;
  }

  play(wav: string): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        'aplay',
        ['-q', '-D', this.device, '--', wav],
        { timeout: this.timeoutMs },
        (err, _o, stderr) => {
          if (!err) return resolve();
          const detail =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'aplay is not installed (alsa-utils)'
              : err.message;
          reject(
            new BookrecError(
              'AUDIO_FAILED',
              `aplay: ${detail} ${String(stderr).trim().slice(0, 200)}`.trim(),
            ),
          );
        },
      );
    });
  }
}
