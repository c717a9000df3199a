import type { KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { connectMqtt } from '../../common/mqttConnect.js';
import { safeUrl } from '../../common/mqttSettings.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { mqttTransport, withTimeout } from '../../common/protocol/transport.js';
import { DEFAULT_AUTOSAVE_CHANGES } from '../../deploy/connectionConfig.js';
import { loadSigningKey } from '../../deploy/keys.js';
import { clientOptions, connectDeploy } from '../../deploy/link.js';
import type { ServeConfig } from '../config.js';
import { isLoopback } from '../hostCheck.js';
import { HttpError } from '../httpError.js';
import { actionRoutes } from './actions.js';
import { FleetLive } from './fleetLive.js';
import { TokenGuard } from './tokenGuard.js';

/** Pushes at most this often, however fast devices report: a page redraws a few times a second at most. */
const PUSH_MS = 250;
/** A comment line now and then keeps proxies from closing an idle event stream. */
const HEARTBEAT_MS = 15_000;

export interface Dashboard {
  routes(app: FastifyInstance): void;
  /** Ends the open event streams (before the HTTP server closes: they never end by themselves). */
  closeStreams(): void;
  stop(): Promise<void>;
}

/**
 * The live fleet dashboard's server side: one MQTT connection that follows the retained device topics
 * and channel manifests into a FleetLive, a JSON snapshot at /v1/fleet/state, and the same snapshot
 * pushed to every open page as server-sent events (/v1/fleet/events) when it changes. Bounded: at most
 * maxClients pages at once, pushes throttled. Read-only unless a token is configured (actions.ts); off
 * loopback, reading needs the token too (tokenGuard.ts).
 */
export async function startDashboard(ctx: { config: ServeConfig; log: Logger }): Promise<Dashboard> {
  const { config, log } = ctx;
  const topics = new TopicMap(config.prefix);
  const live = new FleetLive(topics);
  const key: KeyObject | undefined = config.fleet.keyFile
    ? await loadSigningKey(config.fleet.keyFile)
    : undefined;
  const options = await clientOptions({
    ...config.broker,
    clientId: config.broker.clientId || `bookrec-dashboard-${Date.now().toString(36)}`,
  });
  const where = safeUrl(config.broker.url);
  const client: MqttClient = connectMqtt(config.broker.url, options, {
    onDropped: (p) =>
      log.warn('incoming message dropped: larger than the packet limit', { topic: p.topic, bytes: p.bytes }),
  });
  const transport = mqttTransport(client, { timeoutMs: config.broker.timeoutSeconds * 1000 });
  // Off loopback anyone on the network could read the fleet: then reads need the token as actions do.
  const guard = new TokenGuard({ token: config.fleet.token, protectReads: !isLoopback(config.host), log });
  const clients = new Set<(snapshot: string) => void>();
  const streams = new Set<{ end(): void }>();
  let timer: NodeJS.Timeout | undefined;
  let lastPush = 0;
  const snapshot = () => JSON.stringify(live.snapshot(config.fleet.token !== ''));
  const push = () => {
    timer = undefined;
    lastPush = Date.now();
    if (clients.size === 0) return;
    const data = snapshot();
    for (const send of clients) send(data);
  };
  const changed = () => {
    if (timer) return;
    timer = setTimeout(push, Math.max(0, PUSH_MS - (Date.now() - lastPush)));
  };
  transport.onMessage((topic, payload) => {
    if (live.apply(topic, payload)) changed();
  });
  client.on('connect', () => {
    log.info('dashboard following the fleet', { broker: where });
    transport
      .subscribe(live.filters())
      .catch((err: unknown) => log.error('dashboard subscribe failed', { error: errorMessage(err) }));
  });
  client.on('error', (err) => log.warn('mqtt error', { error: err.message }));

  return {
    routes(app) {
      app.get('/v1/fleet/state', async (req) => {
        guard.read(req);
        return live.snapshot(config.fleet.token !== '');
      });
      app.get('/v1/fleet/events', async (req, reply) => {
        guard.read(req);
        if (clients.size >= config.fleet.maxClients) {
          throw new HttpError(
            503,
            'TOO_MANY_CLIENTS',
            `${clients.size} dashboards are open, the most allowed`,
          );
        }
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        // A client that does not read is dropped rather than buffered without end.
        const send = (data: string) => {
          if (res.writableLength > 4 * 1024 * 1024) {
            res.destroy();
            return;
          }
          res.write(`event: fleet\ndata: ${data}\n\n`);
        };
        clients.add(send);
        streams.add(res);
        const beat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
        req.raw.on('close', () => {
          clients.delete(send);
          streams.delete(res);
          clearInterval(beat);
        });
        send(snapshot());
      });
      actionRoutes(app, {
        // Each action on a connection of its own (a fresh client id), as `bookrec rollout` would be.
        connect: () =>
          connectDeploy(
            {
              broker: { ...config.broker, clientId: '', autosaveChanges: DEFAULT_AUTOSAVE_CHANGES },
              prefix: config.prefix,
            },
            log.child('action'),
          ),
        topics,
        log,
        guard,
        key,
        retained: { quietMs: config.broker.quietMs, timeoutMs: config.broker.timeoutSeconds * 1000 },
        onForget: (id) => {
          live.forget(id);
          changed();
        },
      });
    },
    closeStreams() {
      for (const res of streams) res.end();
    },
    async stop() {
      clearTimeout(timer);
      clients.clear();
      await withTimeout(client.endAsync(), 2000, 'disconnect').catch(() => client.end(true));
    },
  };
}
