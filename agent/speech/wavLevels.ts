import { BookrecError } from '../../common/errors.js';

/**
 * How loud a WAV is: the check that a speech file holds sound, not silence or a click. Used by the demo
 * before it says the speaker answered, and by the tests of the speech path.
 */
export interface WavLevels {
  /** Largest absolute sample, 0..1. */
  peak: number;
  /** Root mean square of the samples, 0..1. */
  rms: number;
  /** 16-bit samples in the data chunk (all channels). */
  samples: number;
  rate: number;
  seconds: number;
}

/** Peak, RMS and length of a 16-bit PCM WAV, read from its data chunk. */
export function wavLevels(buf: Buffer, name = 'WAV'): WavLevels {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new BookrecError('WAV_INVALID', `${name}: not a WAV file`);
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
        throw new BookrecError('WAV_INVALID', `${name}: ${bits}-bit samples at ${rate} Hz, not 16-bit PCM`);
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
      return { peak, rms: n > 0 ? Math.sqrt(sum / n) : 0, samples: n, rate, seconds: n / channels / rate };
    }
    at += 8 + size + (size % 2);
  }
  throw new BookrecError('WAV_INVALID', `${name}: no data chunk`);
}
