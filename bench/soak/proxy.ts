import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between the simulated devices and mosquitto, so the soak can drop chosen devices'
 * connections the way a flaky Wi-Fi link does: both sockets are destroyed without an MQTT DISCONNECT,
 * the broker publishes the device's last will, and the device's own reconnect logic has to recover.
 * Nothing inside the agent is reached into: the relay only reads the client id from the MQTT CONNECT
 * packet (the agent's is `bookrec-agent-<deviceId>`, agentClientId) to know whose connection is whose.
 *
 * When the broker dies, its side closes and the relay closes the device side too, so a broker restart
 * looks to devices exactly as it would without the relay.
 */
export interface RelayedConnection {
  /** MQTT client id, once the CONNECT packet has been seen. */
  clientId: string | undefined;
  down: Socket;
  up: Socket;
}

/** Bytes of a CONNECT kept while looking for the client id (a CONNECT is far smaller). */
const SNIFF_LIMIT = 4096;

export class ChaosProxy {
  readonly connections = new Set<RelayedConnection>();
  /** Connections destroyed on purpose so far. */
  dropped = 0;
  private readonly server: Server;
  private readonly targetPort: number;
  private listenPort = 0;

  private constructor(targetPort: number) {
    this.targetPort = targetPort;
    this.server = createServer((down) => this.relay(down));
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.listenPort}`;
  }

  static async start(targetPort: number): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(targetPort);
    proxy.listenPort = await new Promise<number>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        const a = proxy.server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
    return proxy;
  }

  private relay(down: Socket): void {
    const up = connect(this.targetPort, '127.0.0.1');
    const c: RelayedConnection = { clientId: undefined, down, up };
    this.connections.add(c);
    // The broker config sets TCP_NODELAY for the chunk fetch's small exchanges; keep it end to end.
    down.setNoDelay(true);
    up.setNoDelay(true);
    let sniffed = Buffer.alloc(0);
    const sniff = (data: Buffer) => {
      sniffed = Buffer.concat([sniffed, data]);
      const id = connectClientId(sniffed);
      if (id !== undefined || sniffed.length > SNIFF_LIMIT) {
        c.clientId = id;
        down.off('data', sniff);
        sniffed = Buffer.alloc(0);
      }
    };
    down.on('data', sniff);
    down.pipe(up);
    up.pipe(down);
    const close = () => {
      this.connections.delete(c);
      down.destroy();
      up.destroy();
    };
    down.on('close', close);
    up.on('close', close);
    // Errors (ECONNREFUSED while the broker is down, ECONNRESET) end the pair; close does the rest.
    down.on('error', () => undefined);
    up.on('error', () => undefined);
  }

  /** Destroys every relayed connection whose client id passes `which`; returns how many. */
  drop(which: (clientId: string) => boolean): number {
    let n = 0;
    for (const c of [...this.connections]) {
      if (c.clientId !== undefined && which(c.clientId)) {
        c.down.destroy();
        c.up.destroy();
        this.connections.delete(c);
        n++;
      }
    }
    this.dropped += n;
    return n;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) {
      c.down.destroy();
      c.up.destroy();
    }
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The client id of an MQTT CONNECT packet (3.1.1 or 5) at the start of `b`, or undefined while the
 * packet is incomplete or not a CONNECT.
 */
export function connectClientId(b: Buffer): string | undefined {
  if (b.length < 2 || b[0] >> 4 !== 1) return undefined;
  let at = 1;
  let remaining = 0;
  for (let shift = 0; shift <= 21; shift += 7) {
    if (at >= b.length) return undefined;
    const byte = b[at++];
    remaining += (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  if (b.length < at + remaining) return undefined;
  const nameLength = b.readUInt16BE(at);
  at += 2 + nameLength;
  const level = b[at];
  at += 1 + 1 + 2; // level, flags, keepalive
  if (level === 5) {
    let props = 0;
    for (let shift = 0; shift <= 21; shift += 7) {
      const byte = b[at++];
      props += (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    at += props;
  }
  const idLength = b.readUInt16BE(at);
  return b.subarray(at + 2, at + 2 + idLength).toString('utf8');
}
