import { execFile } from 'node:child_process';
import { BookrecError } from '../../common/errors.js';
import { programFailure } from './programFailure.js';
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
    return this.run(['--', wav], undefined, this.timeoutMs);
  }

  /**
   * Plays 50 ms of silence from stdin: whether this device can play at all (a sound card, the device
   * name, permissions), without a file and without a sound anyone hears. For `--check-config`.
   */
  probe(): Promise<void> {
    return this.run(['-'], SILENCE, 10_000);
  }

  private run(args: string[], stdin: Buffer | undefined, timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = execFile('aplay', ['-q', '-D', this.device, ...args], { timeout }, (err, _o, stderr) => {
        if (!err) return resolve();
        reject(new BookrecError('AUDIO_FAILED', programFailure(`aplay -D ${this.device}`, err, stderr)));
      });
      // aplay may exit before reading stdin (no device): that EPIPE is reported by the callback.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    });
  }
}

/** A 16 kHz mono 16-bit WAV of 50 ms of silence. */
const SILENCE = silentWav(16_000, 800);

function silentWav(rate: number, samples: number): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  return b;
}
