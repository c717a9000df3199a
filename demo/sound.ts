import { accessSync, constants, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { BookrecError } from '../common/errors.js';

/**
 * The sound side of the demo: whether this machine has a loudspeaker to play on (an ALSA sound card and
 * aplay), and whether the WAV the agent wrote holds real speech rather than silence.
 */

export interface WavLevels {
  /** Largest absolute sample, 0..1. */
  peak: number;
  /** Root mean square of the samples, 0..1. */
  rms: number;
  seconds: number;
}

/** Peak, RMS and length of a 16-bit PCM WAV, read from its data chunk. */
export function wavLevels(buf: Buffer, name = 'WAV'): WavLevels {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new BookrecError('DEMO_NO_SOUND', `${name}: not a WAV file`);
  let at = 12;
  let rate = 0;
  let bits = 0;
  let channels = 1;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    let size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 24 <= buf.length) {
      channels = buf.readUInt16LE(at + 10);
      rate = buf.readUInt32LE(at + 12);
      bits = buf.readUInt16LE(at + 22);
    }
    if (id === 'data') {
      if (bits !== 16 || rate === 0)
        throw new BookrecError('DEMO_NO_SOUND', `${name}: ${bits}-bit samples at ${rate} Hz, not 16-bit PCM`);
      // espeak-ng writes 0x7fffffff as the data size when it streams: use what the file has.
      size = Math.min(size, buf.length - at - 8);
      const n = Math.floor(size / 2);
      let peak = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = buf.readInt16LE(at + 8 + 2 * i) / 32768;
        peak = Math.max(peak, Math.abs(v));
        sum += v * v;
      }
      return { peak, rms: n > 0 ? Math.sqrt(sum / n) : 0, seconds: n / channels / rate };
    }
    at += 8 + size + (size % 2);
  }
  throw new BookrecError('DEMO_NO_SOUND', `${name}: no data chunk`);
}

/** Speech, not silence or a click: the levels espeak-ng reaches for a sentence (peak ~0.6, RMS ~0.1). */
export function isRealSound(l: WavLevels): boolean {
  return l.peak > 0.1 && l.rms > 0.01 && l.seconds > 1;
}

export async function wavFileLevels(file: string): Promise<WavLevels> {
  return wavLevels(await readFile(file), file);
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
  if (!onPath('aplay', env))
    return { ok: false, why: `sound card ${card[1].trim()} found, but no aplay (Debian package alsa-utils)` };
  return { ok: true, card: card[1].trim() };
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}
