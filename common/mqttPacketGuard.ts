/**
 * A size limit on incoming MQTT packets that holds without buffering them. MQTT's fixed header says how
 * long a packet is before any of its body arrives (a type byte, then the remaining length in 1-4 bytes),
 * so a reader can decide at the header. This guard sits between the socket and the MQTT parser and sees
 * the byte stream packet by packet:
 *
 * - a packet within the limit passes through unchanged (slices of the incoming chunks, never copied);
 * - a larger PUBLISH in `skip` mode (a client) is discarded as its bytes stream past: only its topic and
 *   packet id are read (at most 64 KiB + 4 bytes), and a QoS 1 PUBLISH is acknowledged with a PUBACK so
 *   the broker does not keep it in flight or send it again. The connection stays up;
 * - any other oversized packet, or any oversized packet in `close` mode (a broker), ends the connection.
 *
 * Why here and not in the MQTT library: mqtt.js (v5) collects a whole packet before looking at its size
 * (its maximumPacketSize check runs after parsing, and only for MQTT 5), and MQTT 3.1.1 has no way to tell
 * the broker a limit at all; aedes has no limit (moscajs/aedes#831). So 100 MB on a subscribed topic cost
 * a client 100+ MB, and the embedded broker stored any size.
 */
export interface DroppedPacket {
  /** MQTT packet type (3 = PUBLISH). */
  type: number;
  /** The whole packet's size in bytes, as its header announced. */
  bytes: number;
  /** A PUBLISH's topic (undefined for other packets). */
  topic?: string;
  qos?: number;
}

export interface GuardOutput {
  /** Bytes for the MQTT parser, in order. */
  forward: Buffer[];
  /** Packets to send back to the peer (PUBACKs of skipped QoS 1 PUBLISHes). */
  replies: Buffer[];
  dropped: DroppedPacket[];
  /** Set when the connection must end; nothing after it is forwarded. */
  close?: string;
}

const PUBLISH = 3;
/** Variable header of a PUBLISH that the guard reads: topic length, topic (<= 65535), packet id. */
const MAX_PUBLISH_HEAD = 2 + 65_535 + 2;

type State =
  | { kind: 'header'; bytes: number[] }
  | { kind: 'pass'; left: number }
  | { kind: 'head'; first: number; total: number; left: number; head: Buffer[]; headBytes: number }
  | { kind: 'skip'; left: number }
  | { kind: 'closed' };

export class PacketGuard {
  private state: State = { kind: 'header', bytes: [] };
  /** The most bytes of one packet the guard ever held at once (for tests and benchmarks). */
  maxHeld = 0;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly mode: 'skip' | 'close',
  ) {}

  feed(chunk: Buffer): GuardOutput {
    const out: GuardOutput = { forward: [], replies: [], dropped: [] };
    let at = 0;
    while (at < chunk.length && this.state.kind !== 'closed') {
      const s = this.state;
      if (s.kind === 'pass' || s.kind === 'skip') {
        const n = Math.min(s.left, chunk.length - at);
        if (s.kind === 'pass') out.forward.push(chunk.subarray(at, at + n));
        at += n;
        s.left -= n;
        if (s.left === 0) this.state = { kind: 'header', bytes: [] };
        continue;
      }
      if (s.kind === 'head') {
        const want = this.headWanted(s);
        const n = Math.min(want - s.headBytes, s.left, chunk.length - at);
        s.head.push(chunk.subarray(at, at + n));
        s.headBytes += n;
        this.maxHeld = Math.max(this.maxHeld, s.headBytes);
        s.left -= n;
        at += n;
        if (s.headBytes === this.headWanted(s) || s.left === 0) this.endHead(s, out);
        continue;
      }
      // Header: a type byte, then the remaining length, 7 bits per byte, at most 4 bytes.
      s.bytes.push(chunk[at++]);
      if (s.bytes.length === 1) continue;
      const last = s.bytes[s.bytes.length - 1];
      if (last & 0x80) {
        if (s.bytes.length === 5) return this.closeWith(out, 'malformed remaining length');
        continue;
      }
      let remaining = 0;
      for (let i = s.bytes.length - 1; i >= 1; i--) remaining = remaining * 128 + (s.bytes[i] & 0x7f);
      const total = s.bytes.length + remaining;
      if (total <= this.maxPacketBytes) {
        out.forward.push(Buffer.from(s.bytes));
        this.state = remaining === 0 ? { kind: 'header', bytes: [] } : { kind: 'pass', left: remaining };
        continue;
      }
      const type = s.bytes[0] >> 4;
      const qos = (s.bytes[0] >> 1) & 3;
      if (this.mode === 'close' || type !== PUBLISH || qos === 2) {
        out.dropped.push({ type, bytes: total });
        return this.closeWith(
          out,
          `a ${type === PUBLISH ? 'PUBLISH' : `type ${type}`} packet of ${total} bytes, above the limit of ${this.maxPacketBytes}`,
        );
      }
      this.state = { kind: 'head', first: s.bytes[0], total, left: remaining, head: [], headBytes: 0 };
    }
    return out;
  }

  /** How much of an oversized PUBLISH's body the guard reads: topic length, topic, packet id (QoS > 0). */
  private headWanted(s: Extract<State, { kind: 'head' }>): number {
    if (s.headBytes < 2) return 2;
    const head = Buffer.concat(s.head);
    s.head = [head];
    const topicLength = head.readUInt16BE(0);
    const qos = (s.first >> 1) & 3;
    return Math.min(MAX_PUBLISH_HEAD, 2 + topicLength + (qos > 0 ? 2 : 0));
  }

  private endHead(s: Extract<State, { kind: 'head' }>, out: GuardOutput): void {
    const head = Buffer.concat(s.head);
    const qos = (s.first >> 1) & 3;
    const topicLength = head.length >= 2 ? head.readUInt16BE(0) : 0;
    const topic =
      head.length >= 2 + topicLength ? head.subarray(2, 2 + topicLength).toString('utf8') : undefined;
    if (qos === 1 && head.length >= 2 + topicLength + 2) {
      const id = head.readUInt16BE(2 + topicLength);
      out.replies.push(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
    }
    out.dropped.push({ type: PUBLISH, bytes: s.total, topic, qos });
    this.state = s.left === 0 ? { kind: 'header', bytes: [] } : { kind: 'skip', left: s.left };
  }

  private closeWith(out: GuardOutput, reason: string): GuardOutput {
    this.state = { kind: 'closed' };
    out.close = reason;
    return out;
  }
}
