import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type DroppedPacket, PacketGuard } from './mqttPacketGuard.js';
import { checkBrokerTls, checkBrokerUrl } from './mqttSettings.js';

/**
 * Every MQTT connection of the project (the agent's link, deploy's link) is made here: the broker URL is
 * checked (only mqtt, mqtts, ws, wss; TLS files only with mqtts or wss), and incoming packets are bounded (common/mqttPacketGuard.ts):
 * MQTT 5 clients also announce the limit to the broker (Maximum Packet Size, so mosquitto never sends a
 * larger packet), and for MQTT 3.1.1, which cannot announce one, the guard drops a larger PUBLISH as it
 * streams past without holding it.
 */

/**
 * The largest packet a client takes: a chunk (at most 128 KiB, the manifest limit) with its topic fits,
 * as does everything else on the wire (manifests 64 KiB, commands 4 KiB). mosquitto's max_packet_size in
 * deploy/mosquitto/mosquitto.conf is the same 256 KiB.
 */
export const MAX_PACKET_BYTES = 256 * 1024;

export interface PacketLimit {
  maxPacketBytes?: number;
  /** Told of every packet dropped for its size. */
  onDropped?: (packet: DroppedPacket) => void;
}

/** mqtt.js's connect with the URL checked and the packet guard between the socket and the parser. */
export function connectMqtt(url: string, options: IClientOptions, limit: PacketLimit = {}): MqttClient {
  checkBrokerUrl(url);
  checkBrokerTls(url, options);
  const max = limit.maxPacketBytes ?? MAX_PACKET_BYTES;
  const properties =
    options.protocolVersion === 5 ? { ...options.properties, maximumPacketSize: max } : options.properties;
  const client = mqtt.connect(url, { ...options, properties, manualConnect: true });
  // mqtt.js builds a new stream on every (re)connect with the builder it picked for the URL's scheme;
  // replacing that builder puts the guard under every connection the client makes.
  const holder = client as unknown as { streamBuilder: (c: MqttClient) => Duplex };
  const original = holder.streamBuilder;
  const onDropped = limit.onDropped ?? (() => undefined);
  holder.streamBuilder = (c) => {
    const stream = new GuardedStream(new PacketGuard(max, 'skip'), onDropped);
    stream.attach(socketFor(c, original, stream));
    return stream;
  };
  client.connect();
  // manualConnect also makes end() re-arm reconnecting (mqtt.js resets `disconnecting` for such
  // clients): a client ended before its CONNACK would reconnect forever. It was only needed until here.
  client.options.manualConnect = false;
  return client;
}

/**
 * The socket under a client. For mqtt:// and mqtts:// it is made here, reading into one reused buffer
 * (Node's `onread`): bytes the guard skips are then never allocated at all, where a socket's 'data'
 * events allocate a new buffer per read and a 100 MB message left ~35 MB of freed-but-kept memory behind.
 * ws:// and wss:// (and a SOCKS proxy) use mqtt.js's own builder and 'data' events.
 */
function socketFor(client: MqttClient, original: (c: MqttClient) => Duplex, stream: GuardedStream): Duplex {
  const o = client.options;
  const host = o.hostname ?? o.host ?? 'localhost';
  const onread = stream.reader();
  if (o.socksProxy) return original(client);
  if (o.protocol === 'mqtt') return net.connect({ host, port: Number(o.port ?? 1883), onread });
  if (o.protocol !== 'mqtts') return original(client);
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  // Node reads TLS into a static buffer too (since v15); @types/node 20 does not list the option.
  const tlsOptions: tls.ConnectionOptions & { onread: typeof onread } = {
    host,
    port: Number(o.port ?? 8883),
    servername: net.isIP(host) === 0 ? host : undefined,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    rejectUnauthorized,
    onread,
  };
  const socket = tls.connect(tlsOptions);
  let secured = false;
  // As mqtt.js's own TLS builder: an unauthorised peer is an error the client reports.
  socket.once('secureConnect', () => {
    secured = true;
    if (rejectUnauthorized && !socket.authorized) socket.emit('error', new Error('TLS not authorized'));
  });
  stream.explain = (err) => (secured ? err : notTls(err, `${host}:${tlsOptions.port}`));
  return socket;
}

/**
 * mqtts:// against a plain MQTT port: the server reads the TLS hello as a bad packet and hangs up, which
 * Node reports as "read ECONNRESET" or a socket closed before the handshake. Said with the fix instead.
 */
function notTls(err: Error, where: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const handshake =
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /before secure TLS connection|wrong version number|packet length too long/i.test(err.message);
  if (!handshake) return err;
  return Object.assign(
    new Error(
      `${where} did not speak TLS (the connection ended in the TLS handshake: ${err.message}); is it a plain MQTT port? Use mqtt:// for it, or the broker's TLS port (usually 8883) with mqtts://`,
      { cause: err },
    ),
    { code: 'NOT_TLS' },
  );
}

/**
 * A duplex over a socket (or any duplex) whose readable side passes the packets the guard lets through;
 * what the guard answers (PUBACKs of dropped PUBLISHes) is written through this stream's own writable
 * side, so it lands between whole packets of the client's own.
 */
export function guardedStream(
  inner: Duplex,
  guard: PacketGuard,
  onDropped: (packet: DroppedPacket) => void,
  onClose?: (reason: string) => void,
): Duplex {
  const stream = new GuardedStream(guard, onDropped, onClose);
  stream.attach(inner);
  return stream;
}

const READ_BUFFER_BYTES = 64 * 1024;

class GuardedStream extends Duplex {
  private inner: Duplex | undefined;
  private readBuffer: Buffer | undefined;
  /** Turns a socket error into one that says what went wrong (a TLS client on a plain port). */
  explain: ((err: Error) => Error) | undefined;

  constructor(
    private readonly guard: PacketGuard,
    private readonly onDropped: (packet: DroppedPacket) => void,
    private readonly onClose?: (reason: string) => void,
  ) {
    super();
  }

  /** The `onread` option of a socket made for this stream: one buffer, reused for every read. */
  reader(): { buffer: Buffer; callback: (bytes: number, buffer: Buffer) => boolean } {
    this.readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return {
      buffer: this.readBuffer,
      // The buffer is overwritten by the next read: what passes is copied (fromPeer).
      callback: (bytes, buffer) => this.fromPeer(buffer.subarray(0, bytes), true),
    };
  }

  attach(inner: Duplex): void {
    this.inner = inner;
    // A socket with `onread` delivers through reader()'s callback and emits no 'data'.
    inner.on('data', (chunk: Buffer) => {
      if (!this.fromPeer(chunk, false)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(this.explain?.(err) ?? err));
    inner.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** TCP sockets: Nagle off (common/protocol/transport.ts sets it through the client's stream). */
  setNoDelay(on: boolean): void {
    (this.inner as (Duplex & { setNoDelay?: (on: boolean) => void }) | undefined)?.setNoDelay?.(on);
  }

  get remoteAddress(): string | undefined {
    return (this.inner as (Duplex & { remoteAddress?: string }) | undefined)?.remoteAddress;
  }

  /** Returns false when the reader wants no more for now (the socket is paused until _read). */
  private fromPeer(chunk: Buffer, reused: boolean): boolean {
    const out = this.guard.feed(chunk);
    for (const d of out.dropped) this.onDropped(d);
    for (const reply of out.replies) this.write(reply);
    let more = true;
    for (const b of out.forward) more = this.push(reused ? Buffer.from(b) : b) && more;
    if (out.close) {
      this.onClose?.(out.close);
      this.inner?.destroy();
      return false;
    }
    return more;
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const inner = this.inner;
    if (!inner || inner.destroyed) {
      done();
      return;
    }
    if (inner.write(chunk, encoding)) done();
    else inner.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.inner?.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.inner?.destroy();
    done(err);
  }
}
