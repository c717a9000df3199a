import { BookrecError } from '../../../common/errors.js';

/**
 * The pieces of MPD's text protocol that need no socket: where the server is, how an argument is
 * quoted, how a response line is read. A response is "key: value" lines ending in "OK", or one
 * "ACK [code@index] {command} message" line; the greeting is "OK MPD <version>".
 */

export const DEFAULT_MPD_PORT = 6600;

export type MpdAddress = { host: string; port: number } | { path: string };

/**
 * `signals.mpd`: "host:port", "host" (port 6600), "[v6 address]:port", or an absolute path to MPD's
 * local socket (moOde and Debian also listen on /run/mpd/socket).
 */
export function parseMpdAddress(text: string): MpdAddress {
  const bad = (why: string) => new BookrecError('CONFIG_INVALID', `${JSON.stringify(text)} ${why}`);
  if (text.startsWith('/')) return { path: text };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw bad('is not host:port, [IPv6]:port or an absolute socket path');
  const port = m[3] === undefined ? DEFAULT_MPD_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw bad('has a port outside 1..65535');
  return { host: m[1] ?? m[2], port };
}

export function describeAddress(address: MpdAddress): string {
  if ('path' in address) return address.path;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * One command line. Arguments are always quoted; a line break or NUL in one would end the command
 * early and let the rest run as another command, so such an argument is refused, never sent.
 */
export function commandLine(name: string, args: readonly string[] = []): string {
  if (!/^[a-z_]+$/.test(name)) throw new BookrecError('MPD_ARGUMENT', `not an MPD command name: ${name}`);
  const quoted = args.map((a) => {
    if (/[\r\n\0]/.test(a)) {
      throw new BookrecError('MPD_ARGUMENT', `an argument of ${name} holds a line break or NUL: not sent`);
    }
    return `"${a.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  });
  return `${[name, ...quoted].join(' ')}\n`;
}

export interface MpdPair {
  key: string;
  value: string;
}

export interface MpdAck {
  /** MPD's error number: 3 wrong password, 4 no permission, 5 unknown command, 50 no such thing, ... */
  code: number;
  command: string;
  message: string;
}

export type ResponseLine =
  | { kind: 'ok' }
  | { kind: 'ack'; ack: MpdAck }
  | { kind: 'pair'; pair: MpdPair }
  | { kind: 'other'; text: string };

export function readResponseLine(line: string): ResponseLine {
  if (line === 'OK') return { kind: 'ok' };
  const ack = /^ACK \[(\d+)@\d+\] \{([^}]*)\} ?(.*)$/.exec(line);
  if (ack) return { kind: 'ack', ack: { code: Number(ack[1]), command: ack[2], message: ack[3] } };
  const colon = line.indexOf(': ');
  if (colon > 0) return { kind: 'pair', pair: { key: line.slice(0, colon), value: line.slice(colon + 2) } };
  return { kind: 'other', text: line };
}

/** The first value of `key` (MPD's keys are case-sensitive: `Album`, but `duration`). */
export function firstValue(pairs: readonly MpdPair[], key: string): string | undefined {
  return pairs.find((p) => p.key === key)?.value;
}

/** Every value of `key`: tags such as Artist may repeat. */
export function allValues(pairs: readonly MpdPair[], key: string): string[] {
  return pairs.filter((p) => p.key === key).map((p) => p.value);
}

/** A song list (playlistinfo, playlistfind) split into songs: each starts with its `file` line. */
export function splitSongs(pairs: readonly MpdPair[]): MpdPair[][] {
  const songs: MpdPair[][] = [];
  for (const p of pairs) {
    if (p.key === 'file') songs.push([]);
    songs.at(-1)?.push(p);
  }
  return songs;
}

/**
 * Splits a byte stream into lines of at most maxLineBytes. A longer line is never held whole: its bytes
 * are dropped up to its end, and it comes out as `undefined`, so the reader stays in step with the
 * responses and memory stays bounded whatever the server sends.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private dropping = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer, onLine: (line: string | undefined) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (!this.dropping) {
        if (this.bytes + piece.length > this.maxLineBytes) {
          this.dropping = true;
          this.parts = [];
          this.bytes = 0;
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.bytes += piece.length;
        }
      }
      if (nl === -1) return;
      if (this.dropping) onLine(undefined);
      else onLine(Buffer.concat(this.parts, this.bytes).toString('utf8'));
      this.parts = [];
      this.bytes = 0;
      this.dropping = false;
      start = nl + 1;
    }
  }
}
