import { splitList } from '../common/configFormats.js';
import { isValidName } from '../common/protocol/topics.js';
import { parseMpdAddress } from './signals/mpd/protocol.js';

/**
 * The validators of the agent's settings (convict formats): each throws a message naming what is
 * allowed and the value given. The schema is configSchema.ts; cross-field rules live in config.ts.
 */

export const range =
  (lo: number, hi: number, what: string, integer = true) =>
  (v: unknown) => {
    if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new Error(
        `must be ${integer ? 'an integer' : 'a number'} ${lo}..${hi} (${what}), got ${JSON.stringify(v)}`,
      );
    }
  };

/** A pin is a line offset on the chip; -1 means the button is not wired. */
export const pin = range(-1, 1023, 'GPIO line offset, -1: not wired');

export const clock = (v: unknown) => {
  if (v !== '' && (typeof v !== 'string' || !/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(v))) {
    throw new Error(`must be HH:MM (24-hour, local time) or empty, got ${JSON.stringify(v)}`);
  }
};

export const deviceId = (v: unknown) => {
  if (v !== '' && !isValidName(v)) {
    throw new Error(
      `must be 1-64 characters of A-Z a-z 0-9 . _ - (empty: the host name), got ${JSON.stringify(v)}`,
    );
  }
};

/** Festival voices are Scheme procedure names that `say` splices into its program: only plain names. */
export const voice = (v: unknown) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_+-]{0,64}$/.test(v)) {
    throw new Error(`must be a plain voice name (A-Z a-z 0-9 _ + -), got ${JSON.stringify(v)}`);
  }
};

export const mpdAddress = (v: unknown) => {
  if (typeof v !== 'string') throw new Error('must be host:port, [IPv6]:port or a socket path');
  if (v !== '') parseMpdAddress(v);
};

export const intent = (v: unknown) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(v)) {
    throw new Error(`must be one topic level of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(v)}`);
  }
};

export const hermesSites = (v: unknown) => {
  if (
    typeof v !== 'string' ||
    !(v === '*' || splitList(v).every((s) => /^[\x21-\x7e]{1,128}$/.test(s) && s !== '*'))
  ) {
    throw new Error('must be *, or site ids (1-128 printable characters each) separated by commas');
  }
};
