import { splitList } from '../common/configFormats.js';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { speaksAfterQueue } from '../common/protocol/commands.js';
import type { ReceiverContext } from '../common/protocol/receiver.js';
import { trustedKeys } from '../common/protocol/signing.js';
import { TopicMap } from '../common/protocol/topics.js';
import { CommandHandler } from './commandHandler.js';
import { type AgentConfig, resolveDeviceId, trustedKeyList } from './config.js';
import { HermesBridge } from './hermes.js';
import { HistoryStore } from './history.js';
import { HomeAssistantDiscovery } from './homeAssistant.js';
import { type ActiveModel, ModelStore } from './modelStore.js';
import { AgentLink } from './mqttLink.js';
import { Outbox } from './outbox.js';
import { QualityCounters } from './qualityCounters.js';
import { QuietMode } from './quietMode.js';
import { Responder } from './responder.js';
import { buildTts, tfjsWhenNeeded } from './serviceParts.js';
import { SIGNAL_SOURCES } from './signalSources.js';
import type { GpioLines } from './signals/gpio/gpio.js';
import { SignalIntake } from './signals/intake.js';
import type { SignalSink, SignalSource } from './signals/source.js';
import type { AudioSink, Tts } from './speech/tts.js';
import { prepareStateDir } from './stateDir.js';
import type { StateLock } from './stateLock.js';
import { StatusReporter } from './statusReporter.js';
import { type NotifyRunner, SystemdNotify } from './systemdNotify.js';
import { Updater } from './updater.js';
import { agentVersion } from './version.js';

/**
 * The composition root: builds every part from the settings and starts them in an order that lets the
 * speaker work offline. Model and history load from disk first; the broker connection is started in
 * the background; systemd hears READY once a model is loaded (or, without one, once the service can
 * answer at all), never waiting for the network. Parts are handed their dependencies as context
 * objects; tests inject fakes for what this machine lacks (GPIO, loudspeaker) and shorter timeouts.
 */
export interface ServiceContext {
  config: AgentConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Adapters tests replace. */
  gpio?: GpioLines;
  tts?: Tts;
  sink?: AudioSink;
  notify?: NotifyRunner;
  receiver?: Partial<Pick<ReceiverContext, 'chunkTimeoutMs' | 'maxAttempts' | 'windowChunks'>>;
  beforeSwitch?: (version: number) => Promise<void>;
  now?: () => Date;
}

export class AgentService {
  private readonly ctx: ServiceContext;
  readonly deviceId: string;
  readonly topics: TopicMap;
  readonly store: ModelStore;
  readonly history: HistoryStore;
  readonly intake: SignalIntake;
  readonly outbox: Outbox;
  readonly link: AgentLink;
  readonly status: StatusReporter;
  readonly responder: Responder;
  readonly notify: SystemdNotify;
  readonly quality: QualityCounters;
  readonly quietMode: QuietMode;
  readonly discovery: HomeAssistantDiscovery;
  /** Signal sources the settings turned on, local ones first started, broker ones once connected. */
  private sources: SignalSource[] = [];
  private readonly started: SignalSource[] = [];
  private updater: Updater | undefined;
  private commands: CommandHandler | undefined;
  private remote: { stop(): Promise<void> }[] = [];
  private subscribed = false;
  private subscribing: Promise<void> | undefined;
  /** The connects' discovery rounds (they write homeassistant.json): stop() waits for them. */
  private discovering: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The state dir's lock, held from start() to the end of stop(). */
  private lock: StateLock | undefined;

  /** Only stores and wires objects; nothing touches the disk, network or hardware before start(). */
  constructor(ctx: ServiceContext) {
    this.ctx = ctx;
    const { config } = ctx;
    const log = ctx.log;
    this.deviceId = resolveDeviceId(config);
    this.topics = new TopicMap(config.prefix);
    this.store = new ModelStore({
      stateDir: config.stateDir,
      log: log.child('model'),
      beforeSwitch: ctx.beforeSwitch,
      loadOther: tfjsWhenNeeded(config.backend, log.child('tfjs')),
    });
    this.history = new HistoryStore({
      stateDir: config.stateDir,
      log: log.child('history'),
      maxEvents: config.history.maxEvents,
      compactEvery: config.history.compactEvery,
    });
    this.intake = new SignalIntake({
      history: this.history,
      log: log.child('signals'),
      knows: () => {
        const m = this.store.current;
        return m ? (id) => m.index.has(id) : undefined;
      },
      onAccepted: (signal) => this.quality.signal(signal),
    });
    this.link = new AgentLink({
      broker: config.broker,
      deviceId: this.deviceId,
      statusTopic: this.topics.device(this.deviceId, 'status'),
      will: () => this.status.will(),
      log: log.child('mqtt'),
    });
    this.outbox = new Outbox({
      publish: (topic, payload, options) => this.link.transport.publish(topic, payload, options),
      online: () => this.link.online,
      maxMessages: config.outbox.maxMessages,
      log: log.child('outbox'),
    });
    const version = agentVersion();
    this.status = new StatusReporter({
      outbox: this.outbox,
      topics: this.topics,
      deviceId: this.deviceId,
      agentVersion: version,
      model: () => this.store.current?.release,
      log: log.child('status'),
      stateDir: config.stateDir,
    });
    this.responder = new Responder({
      model: () => this.store.current,
      history: this.history,
      tts: ctx.tts ?? buildTts(config, ctx.sink),
      outbox: this.outbox,
      topics: this.topics,
      deviceId: this.deviceId,
      output: config.output,
      quietHours: config.quietHours,
      quietMode: () => this.quietMode.on,
      log: log.child('recommend'),
      now: ctx.now,
      onAnswer: (release, books, at) => this.quality.recommended(release, books, at),
    });
    this.quality = new QualityCounters({
      stateDir: config.stateDir,
      outbox: this.outbox,
      topics: this.topics,
      deviceId: this.deviceId,
      log: log.child('quality'),
      windowMs: config.quality.windowSeconds * 1000,
      publishEveryMs: config.quality.publishSeconds * 1000,
      maxVersions: config.quality.maxVersions,
      maxPending: config.quality.maxPending,
    });
    this.quietMode = new QuietMode({
      stateDir: config.stateDir,
      outbox: this.outbox,
      topics: this.topics,
      deviceId: this.deviceId,
      log: log.child('quiet'),
      now: ctx.now,
    });
    this.discovery = new HomeAssistantDiscovery({
      enabled: config.homeassistant.enabled,
      prefix: config.homeassistant.prefix,
      stateDir: config.stateDir,
      deviceId: this.deviceId,
      topics: this.topics,
      channel: config.channel,
      agentVersion: version,
      outbox: this.outbox,
      publishNow: (topic, payload, options) => this.link.transport.publish(topic, payload, options),
      log: log.child('homeassistant'),
      installedDir: () =>
        this.store.current && { dir: this.store.current.dir, version: this.store.current.release.version },
    });
    this.notify = new SystemdNotify({ env: ctx.env, log: log.child('systemd'), run: ctx.notify });
  }

  async start(): Promise<void> {
    const { config, log } = this.ctx;
    ({ lock: this.lock } = await prepareStateDir(config.stateDir, log));
    log.info('starting', {
      deviceId: this.deviceId,
      stateDir: config.stateDir,
      agentVersion: agentVersion(),
    });
    await this.store.start();
    await this.history.start();
    await this.quality.start();
    await this.quietMode.start();
    await this.status.load();
    if (trustedKeyList(config).length === 0)
      log.warn('no trusted keys configured: every release will be refused');
    this.updater = new Updater({
      transport: this.lazyTransport(),
      topics: this.topics,
      channel: config.channel,
      deviceId: this.deviceId,
      agentVersion: agentVersion(),
      keys: trustedKeys(trustedKeyList(config)),
      store: this.store,
      status: this.status,
      log: log.child('update'),
      onInstalled: (m) => this.installed(m),
      receiver: this.ctx.receiver,
    });
    this.sources = this.buildSources();
    this.commands = this.commandHandler();
    // Before connecting: the persistent session delivers what waited for the device right away.
    this.commands.listen();
    for (const source of this.sources) if (source.needs === 'broker') source.listen?.();
    this.link.onConnect(() => this.connected());
    await this.link.start();
    for (const source of this.sources) if (source.needs === 'local') await this.startSource(source);
    const model = this.store.current;
    await this.notify.ready(
      model ? `model ${model.release.version} loaded` : 'no model yet: waiting for a release',
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Not started, or refused at the lock: nothing runs, and the state dir may be another agent's.
    if (!this.lock) return;
    const log = this.ctx.log;
    await this.notify.stopping();
    // A subscription round in progress may still start broker sources: let it finish first.
    await this.subscribing;
    for (const source of this.started.splice(0).reverse()) {
      await source
        .stop()
        .catch((err: unknown) =>
          log.warn('signal source stop', { source: source.name, error: errorMessage(err) }),
        );
    }
    for (const part of this.remote) await part.stop();
    await this.commands?.stop();
    // Finishes an install under way: nothing may write to the state dir once stop() has resolved.
    await this.updater?.stop();
    await this.discovering;
    await this.responder.idle();
    await this.quality.stop();
    if (this.link.online) {
      // A clean disconnect does not fire the last will: say "offline" ourselves.
      await this.status.publish('offline');
    }
    await this.link.stop();
    await this.status.saved();
    await this.history.stop();
    await this.store.stop();
    await this.lock.release();
    log.info('stopped', { outboxDropped: this.outbox.dropped, ...this.intake.counters });
  }

  /** Each running source's health(), by name: e.g. whether MPD is connected or being retried. */
  signalHealth(): Record<string, object> {
    return Object.fromEntries(this.sources.flatMap((s) => (s.health ? [[s.name, s.health()]] : [])));
  }

  /** The link's transport, looked up per call: the link creates it in start(). */
  private lazyTransport() {
    return {
      subscribe: (t: string[]) => this.link.transport.subscribe(t),
      unsubscribe: (t: string[]) => this.link.transport.unsubscribe(t),
      onMessage: (l: (topic: string, payload: Buffer) => void) => this.link.transport.onMessage(l),
    };
  }

  /** Every (re)connect: status, queued messages, and the subscriptions once (the link renews them). */
  private connected(): void {
    void this.status.publish('online');
    void this.quietMode.publish();
    const round = this.discovery
      .connected()
      .catch((err: unknown) => this.ctx.log.warn('home assistant discovery', { error: errorMessage(err) }));
    this.discovering = this.discovering.then(() => round);
    if (this.subscribed || this.subscribing || this.stopped) return;
    this.subscribing = this.subscribe()
      .then(() => {
        this.subscribed = true;
      })
      .catch((err: unknown) => {
        this.ctx.log.error('subscribing failed: trying again on the next connection', {
          error: errorMessage(err),
        });
      })
      .finally(() => {
        this.subscribing = undefined;
      });
  }

  private async subscribe(): Promise<void> {
    const { config, log } = this.ctx;
    const transport = this.link.transport;
    await Promise.all(this.remote.splice(0).map((p) => p.stop()));
    await this.commands!.start();
    const parts: { start(): Promise<void>; stop(): Promise<void> }[] = [];
    if (config.hermes.enabled) {
      parts.push(
        new HermesBridge({
          transport,
          outbox: this.outbox,
          responder: this.responder,
          intent: config.hermes.intent,
          lang: config.hermes.lang,
          sites: config.hermes.sites === '*' ? '*' : splitList(config.hermes.sites || this.deviceId),
          log: log.child('hermes'),
        }),
      );
    }
    for (const p of parts) {
      this.remote.push(p);
      await p.start();
    }
    for (const source of this.sources) if (source.needs === 'broker') await this.startSource(source);
    await this.updater!.start();
  }

  /** devices/<id>/commands: one handler for the service's life, listening before the first connect. */
  private commandHandler(): CommandHandler {
    const log = this.ctx.log;
    return new CommandHandler({
      transport: () => this.link.transport,
      commandsTopic: this.topics.device(this.deviceId, 'commands'),
      repliesTopic: this.topics.device(this.deviceId, 'replies'),
      outbox: this.outbox,
      actions: {
        recommend: async (command) => {
          const now = (this.ctx.now ?? (() => new Date()))().getTime();
          const result = await this.responder.trigger('command', { speak: speaksAfterQueue(command, now) });
          if (!result) throw new BookrecError('NO_MODEL', 'no model is installed yet');
          return result.message;
        },
        status: async () => {
          await this.status.publish();
          return this.status.status('online');
        },
        quiet: (command) => this.quietMode.set(command.command === 'quiet' && command.on),
      },
      log: log.child('commands'),
    });
  }

  /** Every source the settings turn on, each with its own sink so events count under its name. */
  private buildSources(): SignalSource[] {
    const { config, log } = this.ctx;
    return SIGNAL_SOURCES.flatMap((factory) => {
      let name = 'source';
      const sink: SignalSink = {
        text: (text) => this.intake.text(name, text),
        signal: (signal) => this.intake.signal(name, signal),
        ask: () => {
          this.responder
            .trigger('button')
            .catch((err: unknown) => log.error('recommend failed', { error: errorMessage(err) }));
        },
        lastAnswerBook: () => this.responder.last?.books[0]?.id,
        catalogue: () => this.store.current?.catalogue,
        inHistory: (bookId) => this.history.entries().some((e) => e.bookId === bookId),
      };
      const source = factory({
        config,
        sink,
        transport: () => this.link.transport,
        signalsTopic: this.topics.device(this.deviceId, 'signals'),
        log: log.child('signals'),
        gpio: this.ctx.gpio,
      });
      if (source) name = source.name;
      return source ? [source] : [];
    });
  }

  /**
   * A source that does not start (no GPIO chip, an unreadable file) is one way in among several: the
   * speaker still answers the others, so it is logged and left out, never fatal.
   */
  private async startSource(source: SignalSource): Promise<void> {
    try {
      await source.start();
      this.started.push(source);
    } catch (err) {
      this.ctx.log.error('signal source unavailable', { source: source.name, error: errorMessage(err) });
    }
  }

  private installed(model: ActiveModel): void {
    this.ctx.log.info('model switched', { version: model.release.version, books: model.catalogue.length });
    void this.notify.status(`model ${model.release.version} loaded`);
    void this.discovery.modelChanged();
  }
}
