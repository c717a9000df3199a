import type { FastifyInstance } from 'fastify';
import { splitList } from '../common/configFormats.js';
import type { Logger } from '../common/log.js';
import { trustedKeys } from '../common/protocol/signing.js';
import { TopicMap } from '../common/protocol/topics.js';
import { buildApp } from './app.js';
import { ChannelFollower, type FollowerContext } from './channelFollower.js';
import { type ServeConfig, serveDeviceId } from './config.js';
import { ServeMetrics } from './metrics.js';
import { ModelSlot } from './modelSlot.js';
import { loadPackageFolder } from './packageFolder.js';
import { defaultWebDir, type Pages, tryLoadPages } from './pages.js';

export interface ServiceContext {
  config: ServeConfig;
  log: Logger;
  /** Receiver tuning (tests shorten timeouts). */
  receiver?: FollowerContext['receiver'];
}

/**
 * `bookrec serve` as an object: the model source (a folder, or a channel followed over MQTT), the HTTP
 * app, and optionally the fleet dashboard (loaded only when asked for, so a recommendation server never
 * loads the fleet code). stop() lets requests in flight finish, then closes the rest.
 */
export class ServeService {
  readonly slot: ModelSlot;
  readonly metrics = new ServeMetrics();
  private app: FastifyInstance | undefined;
  private follower: ChannelFollower | undefined;
  private dashboard: { closeStreams(): void; stop(): Promise<void> } | undefined;

  constructor(private readonly ctx: ServiceContext) {
    this.slot = new ModelSlot((served, swapped) => this.metrics.modelChanged(served, swapped));
  }

  /** The listening address, e.g. http://127.0.0.1:8080. */
  url = '';

  async start(): Promise<void> {
    const { config, log } = this.ctx;
    const keys = trustedKeys(splitList(config.trustedKeys));
    if (config.package) {
      this.slot.swap(
        await loadPackageFolder(config.package, { manifestFile: config.manifest || undefined, keys }),
      );
      const served = this.slot.current!;
      log.info('package in service', {
        dir: config.package,
        model: served.name,
        books: served.model.catalogue.length,
        signed: served.signed !== undefined,
      });
    }
    const webDir = config.webDir || defaultWebDir();
    const { pages, problem } = await tryLoadPages(webDir);
    if (problem) log.warn('pages not served', { problem });
    let extend: ((app: FastifyInstance) => void) | undefined;
    if (config.fleet.enabled) {
      const { startDashboard } = await import('./fleet/dashboard.js');
      const dashboard = await startDashboard({ config, log: log.child('fleet') });
      this.dashboard = dashboard;
      extend = (app) => dashboard.routes(app);
    }
    this.app = buildApp({
      config,
      slot: this.slot,
      metrics: this.metrics,
      log,
      pages: pages as Pages | undefined,
      extend,
    });
    await this.app.listen({ host: config.host, port: config.port });
    const address = this.app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    this.url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info('listening', { url: this.url });
    if (config.channel) {
      this.follower = new ChannelFollower({
        broker: config.broker,
        topics: new TopicMap(config.prefix),
        channel: config.channel,
        deviceId: serveDeviceId(config),
        keys,
        slot: this.slot,
        log: log.child('release'),
        onEvent: (e) => this.metrics.releaseEvent(e),
        receiver: this.ctx.receiver,
      });
      await this.follower.start();
    }
  }

  /** Graceful: no new connections, requests in flight answered, then the broker and the model let go. */
  async stop(): Promise<void> {
    this.dashboard?.closeStreams();
    await this.app?.close();
    this.app = undefined;
    await this.follower?.stop();
    this.follower = undefined;
    await this.dashboard?.stop();
    this.dashboard = undefined;
    this.slot.clear();
  }
}
