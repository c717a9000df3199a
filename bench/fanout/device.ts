import { connect, type Socket } from 'node:net';
import { generate, type IPublishPacket, type Packet, parser } from 'mqtt-packet';
import { BookrecError, errorMessage, isBookrecError } from '../../common/errors.js';
import type { ManifestLimits } from '../../common/protocol/manifest.js';
import { checkManifest } from '../../common/protocol/manifestCheck.js';
import type { TrustedKeys } from '../../common/protocol/signing.js';
import type { TopicMap } from '../../common/protocol/topics.js';
import { StreamingFileCheck } from './fileCheck.js';
import { FrameGuard } from './frameGuard.js';

/**
 * A protocol-level device: one MQTT 3.1.1 connection over node:net (mqtt-packet frames it), no mqtt.js,
 * no agent, so ten thousand fit in a couple of processes. It does what a device's receiver does to
 * accept a release: subscribes to its channel's manifest, checks it with the agent's own checkManifest
 * (shape, Ed25519 signature, channel, limits), subscribes to every chunk topic of the release by name,
 * and checks each file's chunks, size and sha256 against the signed manifest. It reports once: verified,
 * or failed with a code and a reason.
 */

export interface DeviceOptions {
  host: string;
  port: number;
  clientId: string;
  username: string;
  password: string;
  topics: TopicMap;
  channel: string;
  keys: TrustedKeys;
  limits: ManifestLimits;
  keepaliveSeconds: number;
  /** Largest MQTT packet accepted; a larger one drops the connection. */
  maxPacketBytes: number;
  /** Chunk topics subscribed at once at most: a larger release is refused (the broker queue is bounded). */
  maxChunks: number;
  connectTimeoutMs: number;
}

export type DeviceOutcome =
  | { id: string; ok: true; at: number }
  | { id: string; ok: false; code: string; reason: string; at: number };

export type DeviceFailure = Extract<DeviceOutcome, { ok: false }>;

const MANIFEST_SUBSCRIPTION = 1;
const CHUNK_SUBSCRIPTION = 2;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class LightDevice {
  readonly id: string;
  private readonly opts: DeviceOptions;
  private readonly onOutcome: (outcome: DeviceOutcome) => void;
  private socket: Socket | undefined;
  private files: StreamingFileCheck[] | undefined;
  private version = 0;
  private outcome: DeviceOutcome | undefined;
  private ready: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(opts: DeviceOptions, onOutcome: (outcome: DeviceOutcome) => void) {
    this.id = opts.clientId;
    this.opts = opts;
    this.onOutcome = onOutcome;
  }

  get done(): boolean {
    return this.outcome !== undefined;
  }

  /** What the device is waiting for, for a report of devices that never finished. */
  get waitingFor(): string {
    if (!this.files) return 'the manifest';
    const missing = this.files.filter((f) => !f.complete).map((f) => f.file.name);
    return `chunks of ${missing.join(', ') || 'nothing'}`;
  }

  /** Resolves once connected and subscribed to the manifest; rejects with CONNECT_FAILED otherwise. */
  connect(): Promise<void> {
    const o = this.opts;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.drop('CONNECT_FAILED', 'no CONNACK/SUBACK in time'),
        o.connectTimeoutMs,
      );
      this.ready = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const socket = connect({ host: o.host, port: o.port, noDelay: true });
      this.socket = socket;
      const guard = new FrameGuard(o.maxPacketBytes);
      const packets = parser({ protocolVersion: 4 });
      packets.on('packet', (p: Packet) => this.onPacket(p));
      packets.on('error', (err: unknown) => this.drop('PACKET_MALFORMED', errorMessage(err)));
      socket.on('data', (data: Buffer) => {
        try {
          guard.check(data);
        } catch (err) {
          this.drop(codeOf(err), errorMessage(err));
          return;
        }
        packets.parse(data);
      });
      socket.on('error', (err) => this.drop('CONNECTION_LOST', err.message));
      socket.on('close', () =>
        this.drop('CONNECTION_LOST', `connection closed while waiting for ${this.waitingFor}`),
      );
      socket.once('connect', () =>
        this.send({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: o.clientId,
          username: o.username,
          password: Buffer.from(o.password),
          clean: true,
          keepalive: o.keepaliveSeconds,
        }),
      );
    });
  }

  ping(): void {
    this.send({ cmd: 'pingreq' });
  }

  /** Closes the connection (DISCONNECT first, so the broker sends no last will). */
  close(): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    socket.removeAllListeners('close');
    socket.end(generate({ cmd: 'disconnect' }));
  }

  private send(packet: Packet): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(generate(packet));
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack':
        if (p.returnCode !== 0) this.drop('CONNECT_FAILED', `CONNACK return code ${p.returnCode}`);
        else
          this.send({
            cmd: 'subscribe',
            messageId: MANIFEST_SUBSCRIPTION,
            subscriptions: [{ topic: this.opts.topics.manifest(this.opts.channel), qos: 1 }],
          });
        return;
      case 'suback':
        if (p.granted.some((g) => typeof g !== 'number' || g >= 0x80)) {
          this.drop('SUBSCRIBE_REFUSED', `SUBACK ${p.messageId} granted ${JSON.stringify(p.granted)}`);
        } else if (p.messageId === MANIFEST_SUBSCRIPTION) {
          this.ready?.resolve();
          this.ready = undefined;
        }
        return;
      case 'publish':
        if (p.qos === 1 && p.messageId !== undefined) this.send({ cmd: 'puback', messageId: p.messageId });
        if (!this.outcome) this.onPublish(p);
        return;
      default:
        return;
    }
  }

  private onPublish(p: IPublishPacket): void {
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    try {
      if (p.topic === this.opts.topics.manifest(this.opts.channel)) this.onManifest(payload);
      else this.onChunk(p.topic, payload);
    } catch (err) {
      this.finish({ id: this.id, ok: false, code: codeOf(err), reason: errorMessage(err), at: nowMs() });
    }
  }

  private onManifest(payload: Buffer): void {
    // An empty retained message clears the topic; a manifest after the first is not this bench's case.
    if (payload.length === 0 || this.files) return;
    const manifest = checkManifest(payload, {
      keys: this.opts.keys,
      channel: this.opts.channel,
      limits: this.opts.limits,
    });
    const total = manifest.files.reduce((n, f) => n + f.chunks, 0);
    if (total > this.opts.maxChunks) {
      throw new BookrecError(
        'RELEASE_TOO_LARGE',
        `release has ${total} chunks, this client subscribes to at most ${this.opts.maxChunks} at once`,
      );
    }
    this.version = manifest.version;
    this.files = manifest.files.map((f) => new StreamingFileCheck(f));
    const subscriptions = manifest.files.flatMap((f, file) =>
      Array.from({ length: f.chunks }, (_, chunk) => ({
        topic: this.opts.topics.chunk({ channel: manifest.channel, version: manifest.version, file, chunk }),
        qos: 1 as const,
      })),
    );
    if (subscriptions.length === 0) this.checkDone();
    else this.send({ cmd: 'subscribe', messageId: CHUNK_SUBSCRIPTION, subscriptions });
  }

  private onChunk(topic: string, payload: Buffer): void {
    const address = this.opts.topics.parseChunk(topic);
    if (!this.files || !address || address.channel !== this.opts.channel || address.version !== this.version)
      return;
    const file = this.files[address.file];
    if (!file) return;
    file.add(address.chunk, payload);
    if (file.complete) this.checkDone();
  }

  private checkDone(): void {
    const files = this.files ?? [];
    if (!files.every((f) => f.complete)) return;
    for (const f of files) f.verify();
    this.finish({ id: this.id, ok: true, at: nowMs() });
  }

  private finish(outcome: DeviceOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.files = undefined;
    this.onOutcome(outcome);
  }

  /** Fails the device (once) and closes its connection. */
  private drop(code: string, reason: string): void {
    const err = new BookrecError(code, `${this.id}: ${reason}`);
    if (this.ready) {
      this.ready.reject(err);
      this.ready = undefined;
    }
    this.finish({ id: this.id, ok: false, code, reason, at: nowMs() });
    this.socket?.removeAllListeners('close');
    this.socket?.destroy();
  }
}

function codeOf(err: unknown): string {
  return isBookrecError(err) ? err.code : 'INTERNAL';
}
