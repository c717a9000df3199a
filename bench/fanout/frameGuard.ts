import { BookrecError } from '../../common/errors.js';

/**
 * Reads MQTT fixed headers off a byte stream before the packet parser buffers anything, so a frame that
 * announces more than the limit is refused as soon as its length is known instead of being collected.
 */
export class FrameGuard {
  private readonly maxBytes: number;
  /** Bytes of the current frame's body still to come. */
  private rest = 0;
  /** The fixed header being read: type byte, then up to 4 length bytes. */
  private header: number[] = [];

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Throws PACKET_TOO_LARGE or PACKET_MALFORMED; call with every chunk the socket delivers, in order. */
  check(data: Buffer): void {
    let i = 0;
    while (i < data.length) {
      if (this.rest > 0) {
        const take = Math.min(this.rest, data.length - i);
        this.rest -= take;
        i += take;
        continue;
      }
      this.header.push(data[i++]);
      if (this.header.length === 1) continue;
      if ((this.header[this.header.length - 1] & 0x80) !== 0) {
        if (this.header.length > 4) {
          throw new BookrecError('PACKET_MALFORMED', 'MQTT remaining length longer than 4 bytes');
        }
        continue;
      }
      let length = 0;
      for (let k = this.header.length - 1; k >= 1; k--) length = length * 128 + (this.header[k] & 0x7f);
      if (length > this.maxBytes) {
        throw new BookrecError(
          'PACKET_TOO_LARGE',
          `MQTT packet of ${length} bytes, at most ${this.maxBytes} accepted`,
        );
      }
      this.header = [];
      this.rest = length;
    }
  }
}
