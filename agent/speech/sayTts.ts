import type { ChildProcess } from 'node:child_process';
import sayModule from 'say';
import { BookrecError } from '../../common/errors.js';
import { festivalSafe } from './festivalText.js';
import type { SpeechResult, Tts } from './tts.js';

/** The part of a `say` platform object this adapter uses (the package's typings omit the class). */
interface SayPlatform {
  speak(text: string, voice: string | undefined, speed: number | undefined, cb: (err: unknown) => void): void;
  child: ChildProcess | null;
}
type SayClass = new (platform?: string) => SayPlatform;

export interface SayContext {
  /** A festival voice procedure, e.g. voice_kal_diphone (checked by the config: a plain name). */
  voice: string;
  timeoutMs?: number;
  /** Tests: another Say implementation. */
  sayClass?: SayClass;
}

/**
 * festival through the `say` package: say spawns `festival --pipe` (no shell) and writes a Scheme
 * program to its stdin. Text is made safe by festivalSafe() first, because say splices it into that
 * program unescaped. No speed is passed: say would build a shell command line for festival's audio
 * player from it. On Linux say cannot write a file, so festival plays the sound itself (its audio
 * command, aplay by default) and there is no WAV. One platform object per adapter, not say's shared
 * singleton, and never say's stop(): it kills pid + 2, a guess that can hit an unrelated process.
 */
export class SayTts implements Tts {
  readonly engine = 'festival';
  private readonly ctx: SayContext;
  private readonly platform: SayPlatform;

  constructor(ctx: SayContext) {
    this.ctx = ctx;
    const Say = ctx.sayClass ?? (sayModule as unknown as { Say: SayClass }).Say;
    this.platform = new Say('linux');
  }

  speak(text: string): Promise<SpeechResult> {
    const safe = festivalSafe(text);
    const started = performance.now();
    if (safe === '') return Promise.resolve({ synthesisMs: 0, totalMs: 0 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.platform.child?.kill('SIGKILL');
        reject(new BookrecError('TTS_FAILED', `festival: no end after ${this.ctx.timeoutMs ?? 60_000} ms`));
      }, this.ctx.timeoutMs ?? 60_000);
      this.platform.speak(safe, this.ctx.voice || undefined, undefined, (err) => {
        clearTimeout(timer);
        const ms = performance.now() - started;
        if (!err) return resolve({ synthesisMs: ms, totalMs: ms });
        const message = err instanceof Error ? err.message : String(err);
        const detail = /ENOENT/.test(message) ? 'festival is not installed' : message.trim().slice(0, 300);
        reject(new BookrecError('TTS_FAILED', `festival: ${detail}`));
      });
      // say listens to neither: a missing festival (spawn ENOENT) or festival closing its stdin early
      // (EPIPE) would be an unhandled 'error' event and take the whole service down.
      const child = this.platform.child;
      child?.on('error', (err) => {
        clearTimeout(timer);
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new BookrecError('TTS_FAILED', `festival: ${missing ? 'festival is not installed' : err.message}`),
        );
      });
      child?.stdin?.on('error', () => undefined);
    });
  }
}
