import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';
import type { ReceiverContext } from '../common/protocol/receiver.js';
import { trustedKeys } from '../common/protocol/signing.js';
import { TopicMap } from '../common/protocol/topics.js';
import { type AgentConfig, resolveDeviceId, trustedKeyList } from './config.js';
import { HermesBridge } from './hermes.js';
import { HistoryStore } from './history.js';
import { type ActiveModel, ModelStore } from './modelStore.js';
import { AgentLink } from './mqttLink.js';
import { Outbox } from './outbox.js';
import { QualityCounters } from './qualityCounters.js';
import { Responder } from './responder.js';
import { buildButtons, buildTts } from './serviceParts.js';
import type { Buttons } from './signals/gpio/buttons.js';
import type { GpioLines } from './signals/gpio/gpio.js';
import { SignalIntake } from './signals/intake.js';
import { JsonlFollower } from './signals/jsonlFollower.js';
import { MqttSignals } from './signals/mqttSignals.js';
import type { AudioSink, Tts } from './speech/tts.js';
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
  private follower: JsonlFollower | undefined;
  private buttons: Buttons | undefined;
  private updater: Updater | undefined;
  private remote: { stop(): Promise<void> }[] = [];
  private subscribed = false;
  private subscribing: Promise<void> | undefined;
  private stopped = false;

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
      will: () => JSON.stringify(this.status.status('offline')),
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
    this.notify = new SystemdNotify({ env: ctx.env, log: log.child('systemd'), run: ctx.notify });
  }

  async start(): Promise<void> {
    const { config, log } = this.ctx;
    await mkdir(config.stateDir, { recursive: true });
    const backend = await useBackend(config.backend, log.child('tfjs'));
    log.info('starting', {
      deviceId: this.deviceId,
      backend,
      stateDir: config.stateDir,
      agentVersion: agentVersion(),
    });
    await this.store.start();
    await this.history.start();
    await this.quality.start();
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
    this.link.onConnect(() => this.connected());
    await this.link.start();
    if (config.signals.file) {
      this.follower = new JsonlFollower({
        file: config.signals.file,
        positionFile: join(config.stateDir, 'signals.pos'),
        pollMs: config.signals.pollMs,
        maxLineBytes: config.signals.maxLineBytes,
        log: log.child('signals'),
        onLine: (line) => this.intake.text('file', line),
      });
      await this.follower.start();
    }
    this.buttons = buildButtons(config, this.ctx.gpio, log.child('gpio'), (action) => this.onButton(action));
    await this.buttons?.start().catch((err: unknown) => {
      // Buttons are one way in among several: without them the speaker still answers MQTT and voice.
      log.error('GPIO buttons unavailable', { error: errorMessage(err) });
      this.buttons = undefined;
    });
    const model = this.store.current;
    await this.notify.ready(
      model ? `model ${model.release.version} loaded` : 'no model yet: waiting for a release',
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const log = this.ctx.log;
    await this.notify.stopping();
    await this.buttons?.stop().catch((err: unknown) => log.warn('gpio stop', { error: errorMessage(err) }));
    await this.follower?.stop();
    await this.subscribing;
    for (const part of this.remote) await part.stop();
    await this.updater?.stop();
    await this.responder.idle();
    await this.quality.stop();
    if (this.link.online) {
      // A clean disconnect does not fire the last will: say "offline" ourselves.
      await this.status.publish('offline');
    }
    await this.link.stop();
    await this.history.stop();
    await this.store.stop();
    log.info('stopped', { outboxDropped: this.outbox.dropped, ...this.intake.counters });
  }

  /** The link's transport, looked up per call: the link creates it in start(). */
  private lazyTransport() {
    return {
      subscribe: (t: string[]) => this.link.transport.subscribe(t),
      unsubscribe: (t: string[]) => this.link.transport.unsubscribe(t),
      onMessage: (l: (topic: string, payload: Buffer) => void) => this.link.transport.onMessage(l),
    };
  }

  /** Every (re)connect: status, queued messages, and the subscriptions once (mqtt.js renews them). */
  private connected(): void {
    void this.status.publish('online');
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
    const parts: { start(): Promise<void>; stop(): Promise<void> }[] = [];
    if (config.signals.mqtt) {
      parts.push(
        new MqttSignals({
          transport,
          topic: this.topics.device(this.deviceId, 'signals'),
          intake: this.intake,
          maxBytes: config.signals.maxLineBytes,
          log: log.child('signals'),
        }),
      );
    }
    parts.push(this.commands());
    if (config.hermes.enabled) {
      parts.push(
        new HermesBridge({
          transport,
          outbox: this.outbox,
          responder: this.responder,
          intent: config.hermes.intent,
          lang: config.hermes.lang,
          log: log.child('hermes'),
        }),
      );
    }
    for (const p of parts) {
      this.remote.push(p);
      await p.start();
    }
    await this.updater!.start();
  }

  /** devices/<id>/commands: {"command": "recommend"} or {"command": "status"}. */
  private commands(): { start(): Promise<void>; stop(): Promise<void> } {
    const topic = this.topics.device(this.deviceId, 'commands');
    let remove: (() => void) | undefined;
    return {
      start: async () => {
        remove = this.link.transport.onMessage((t, payload) => {
          if (t !== topic || payload.length > 4096) return;
          let command: unknown;
          try {
            command = (JSON.parse(payload.toString('utf8')) as { command?: unknown }).command;
          } catch {
            command = undefined;
          }
          const run =
            command === 'recommend'
              ? this.responder.trigger('command').then(() => undefined)
              : command === 'status'
                ? this.status.publish()
                : Promise.reject(
                    new BookrecError('COMMAND_UNKNOWN', `unknown command ${JSON.stringify(command)}`),
                  );
          run.catch((err: unknown) => this.ctx.log.warn('command failed', { error: errorMessage(err) }));
        });
        await this.link.transport.subscribe([topic]);
      },
      stop: async () => remove?.(),
    };
  }

  private installed(model: ActiveModel): void {
    this.ctx.log.info('model switched', { version: model.release.version, books: model.catalogue.length });
    void this.notify.status(`model ${model.release.version} loaded`);
  }

  private onButton(action: 'recommend' | 'like' | 'skip'): void {
    const log = this.ctx.log;
    if (action === 'recommend') {
      this.responder
        .trigger('button')
        .catch((err: unknown) => log.error('recommend failed', { error: errorMessage(err) }));
      return;
    }
    // like / skip refer to the book the speaker named first in its last answer.
    const book = this.responder.last?.books[0];
    if (!book) return;
    const kind = action === 'like' ? 'liked' : 'skipped';
    this.intake
      .signal('button', { bookId: book.id, kind, at: Date.now() })
      .catch((err: unknown) => log.error('storing a button signal failed', { error: errorMessage(err) }));
  }
}
