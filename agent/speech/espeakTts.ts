import { execFile } from 'node:child_process';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError } from '../../common/errors.js';
import { programFailure } from './programFailure.js';
import { type AudioSink, plainSpeech, type SpeechResult, type Tts } from './tts.js';

export interface EspeakContext {
  /** Folder the WAV is written to (the state dir's speech/). */
  dir: string;
  voice: string;
  /** Words per minute. */
  rate: number;
  sink: AudioSink;
  /** The program (tests may point at another). */
  binary?: string;
  timeoutMs?: number;
}

/**
 * espeak-ng through execFile (no shell): the text goes on stdin (--stdin), never on the command line, so
 * a title that starts with "-" cannot become an option and nothing is interpreted by a shell. The WAV
 * is written beside its final name and renamed, so last.wav is always a whole file.
 */
export class EspeakTts implements Tts {
  readonly engine = 'espeak-ng';
  private readonly ctx: EspeakContext;
  private n = 0;

  constructor(ctx: EspeakContext) {
    this.ctx = ctx;
  }

  async speak(text: string): Promise<SpeechResult> {
    const started = performance.now();
    await mkdir(this.ctx.dir, { recursive: true, mode: 0o700 });
    const wav = join(this.ctx.dir, 'last.wav');
    const tmp = join(this.ctx.dir, `.speech-${process.pid}-${this.n++}.wav`);
    await this.synthesise(plainSpeech(text), tmp);
    // espeak-ng creates the file by the umask; it says what the listener was told: owner only.
    await chmod(tmp, 0o600);
    await rename(tmp, wav);
    const synthesisMs = performance.now() - started;
    await this.ctx.sink.play(wav);
    return { wav, synthesisMs, totalMs: performance.now() - started };
  }

  /** Synthesises one word to nothing (-q): whether the engine and its voice run here (--check-config). */
  check(): Promise<void> {
    return this.synthesise('check', undefined);
  }

  private synthesise(text: string, wav: string | undefined): Promise<void> {
    const out = wav === undefined ? ['-q'] : ['-w', wav];
    const args = [...out, '-v', this.ctx.voice, '-s', String(this.ctx.rate), '--stdin'];
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.ctx.binary ?? 'espeak-ng',
        args,
        { timeout: this.ctx.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 },
        (err, _stdout, stderr) => {
          if (err) reject(new BookrecError('TTS_FAILED', programFailure('espeak-ng', err, stderr)));
          else resolve();
        },
      );
      // The child may die before reading stdin (bad voice): that EPIPE is reported by the callback.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(text);
    });
  }
}
