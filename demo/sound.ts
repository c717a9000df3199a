import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { onPath } from '../agent/programs.js';
import { type WavLevels as MeasuredWav, wavLevels as measureWav } from '../agent/speech/wavLevels.js';
import { BookrecError } from '../common/errors.js';

/**
 * The sound side of the demo: whether this machine has a loudspeaker to play on (an ALSA sound card and
 * aplay), and whether the WAV the agent wrote holds real speech rather than silence.
 */

/** What the demo reports of its answer's sound. */
export type WavLevels = Pick<MeasuredWav, 'peak' | 'rms' | 'seconds'>;

/** The WAV's levels; in the demo a file that is no 16-bit PCM WAV means the speaker gave no sound. */
export function wavLevels(buf: Buffer, name = 'WAV'): WavLevels {
  try {
    return measureWav(buf, name);
  } catch (err) {
    if (err instanceof BookrecError) throw new BookrecError('DEMO_NO_SOUND', err.message);
    throw err;
  }
}

/** Speech, not silence or a click: the levels espeak-ng reaches for a sentence (peak ~0.6, RMS ~0.1). */
export function isRealSound(l: WavLevels): boolean {
  return l.peak > 0.1 && l.rms > 0.01 && l.seconds > 1;
}

export async function wavFileLevels(file: string): Promise<WavLevels> {
  return wavLevels(await readFile(file), file);
}

/**
 * The demo's speakers speak with espeak-ng: without it the whole run (training, publishing, three
 * speakers) would end in a silent WAV minutes later, so its absence stops the demo before any work,
 * with the line that installs it (`npm run demo` installs it itself when run as root).
 */
export function requireSpeechEngine(env: NodeJS.ProcessEnv = process.env): void {
  if (onPath('espeak-ng', env.PATH)) return;
  throw new BookrecError(
    'DEMO_NO_SPEECH_ENGINE',
    "the demo's speakers speak with espeak-ng, which is not on PATH; install it as root: " +
      'apt-get update && apt-get install -y --no-install-recommends espeak-ng',
  );
}

/**
 * A loudspeaker to play on: a sound card in /proc/asound/cards and aplay on PATH. Returns why not
 * otherwise, so the demo can say it writes the WAV only.
 */
export function loudspeaker(
  env: NodeJS.ProcessEnv = process.env,
  cardsFile = '/proc/asound/cards',
): { ok: true; card: string } | { ok: false; why: string } {
  let cards = '';
  try {
    cards = readFileSync(cardsFile, 'utf8');
  } catch {
    return { ok: false, why: 'no sound card (no ALSA)' };
  }
  const card = /^\s*\d+\s+\[[^\]]*\]:\s*(.+)$/m.exec(cards);
  if (!card) return { ok: false, why: 'no sound card' };
  if (!onPath('aplay', env.PATH))
    return { ok: false, why: `sound card ${card[1].trim()} found, but no aplay (Debian package alsa-utils)` };
  return { ok: true, card: card[1].trim() };
}
