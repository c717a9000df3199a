import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { guardedStream, MAX_PACKET_BYTES } from '../common/mqttConnect.js';
import { PacketGuard } from '../common/mqttPacketGuard.js';

/**
 * The embedded broker for demos and tests: aedes in this process, MQTT 3.1.1, retained messages in
 * memory, no authentication. Production runs mosquitto with deploy/mosquitto/. aedes takes packets of
 * any size, so a client sending one above MAX_PACKET_BYTES (256 KiB, mosquitto's max_packet_size in
 * production) is disconnected at the packet's header, as mosquitto does: nothing of it is buffered or
 * stored (a retained 100 MB message would otherwise be sent to every agent on every reconnect).
 */
export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  connectedClients(): number;
  stop(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  log: Logger;
  /** Largest packet a client may send (default MAX_PACKET_BYTES). */
  maxPacketBytes?: number;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { log } = options;
  const aedes = await Aedes.createBroker();
  aedes.on('clientError', (client, err) =>
    log.debug('client error', { client: client.id, error: err.message }),
  );
  aedes.on('client', (client) => log.debug('client connected', { client: client.id }));
  aedes.on('clientDisconnect', (client) => log.debug('client disconnected', { client: client.id }));
  const server: Server = createServer((socket) => {
    // Receivers exchange many small packets; Nagle's algorithm would add ~40 ms to each exchange.
    socket.setNoDelay(true);
    const guard = new PacketGuard(options.maxPacketBytes ?? MAX_PACKET_BYTES, 'close');
    const conn = guardedStream(
      socket,
      guard,
      () => undefined,
      (reason) => log.warn('client disconnected: packet too large', { reason, remote: socket.remoteAddress }),
    );
    aedes.handle(conn);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (err as NodeJS.ErrnoException).code;
    throw new BookrecError(
      'BROKER_LISTEN',
      `cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the port is taken (is mosquitto or another broker running there?)' : (code ?? err)}`,
      { cause: err },
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `mqtt://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  return {
    host: options.host,
    port,
    url,
    connectedClients: () => aedes.connectedClients,
    async stop() {
      // Closing the broker ends client connections, which lets the server's close complete.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
