import { createHash } from 'node:crypto';
import { BookrecError, errorMessage, isBookrecError } from '../errors.js';
import { FileAssembly } from './chunker.js';
import { InstallChain } from './installChain.js';
import { DEFAULT_LIMITS, type ManifestLimits, type SignedManifest } from './manifest.js';
import { checkManifest, refusedAfterSignature } from './manifestCheck.js';
import type { TrustedKeys } from './signing.js';
import type { TopicMap } from './topics.js';
import { type MessageTransport, realTimers, type Timers } from './transport.js';
import { type DeviceReleaseState, decide } from './versionRule.js';

/**
 * The device end of a release: follows one channel's manifest, checks it, and when the device should
 * have the release, fetches its chunks through a sliding window of exact-topic subscriptions, checks
 * every file's size and sha256, and hands the complete files to the host. Nothing reaches the host
 * unless every check passed; every refusal is reported as an event with a code and a reason, and the
 * receiver keeps following the channel afterwards.
 *
 * Why a window of exact topics rather than one wildcard: a broker queues what a subscription matches,
 * and mosquitto drops retained messages beyond its per-client queue (max_queued_messages, 1000 by
 * default), so a wildcard over a large release would silently lose its tail. A window bounds the
 * broker's queue per device and what is in flight, and lets missing chunks be asked for again by name.
 */

export interface ReceivedFile {
  name: string;
  data: Buffer;
}

export interface ReceivedRelease {
  manifest: SignedManifest;
  files: ReceivedFile[];
}

export type ReceiverEvent =
  /** `verified`: the manifest's signature held (a refusal of a real release, e.g. a downgrade or replay). */
  | { type: 'rejected'; code: string; reason: string; verified: boolean; version?: number; serial?: number }
  | { type: 'skipped'; code: string; reason: string; version: number; serial: number }
  | { type: 'started'; version: number; serial: number; bytes: number; chunks: number }
  | { type: 'progress'; version: number; receivedChunks: number; totalChunks: number }
  | { type: 'retry'; version: number; missing: number; attempt: number }
  | { type: 'failed'; code: string; reason: string; version: number; serial: number }
  | { type: 'complete'; version: number; serial: number; bytes: number; ms: number }
  | { type: 'transport'; reason: string };

export interface ReceiverContext {
  transport: MessageTransport;
  topics: TopicMap;
  channel: string;
  deviceId: string;
  agentVersion: string;
  keys: TrustedKeys;
  /** The device's installed release, read at every decision. */
  state: () => DeviceReleaseState;
  /** Installs a complete, verified release; a rejection is reported as INSTALL_FAILED. */
  onRelease: (release: ReceivedRelease) => Promise<void>;
  onEvent?: (event: ReceiverEvent) => void;
  limits?: ManifestLimits;
  timers?: Timers;
  /** Chunks asked for at once (bounds the broker's queue and the in-flight bytes per device). */
  windowChunks?: number;
  /** How long a window may wait for its chunks before they are asked for again. */
  chunkTimeoutMs?: number;
  /** Windows in a row without a single chunk before the transfer fails. */
  maxAttempts?: number;
  allocate?: (size: number) => Buffer;
}

interface Transfer {
  manifest: SignedManifest;
  digest: string;
  assemblies: FileAssembly[];
  totalChunks: number;
  receivedChunks: number;
  /** Topics of the current window not yet received, with the file and chunk each carries. */
  window: Map<string, { file: number; chunk: number }>;
  /**
   * Every topic of the current window, received or not: all of them are subscribed until the window
   * ends, and all are released when it ends or the transfer ends (completes, fails, is superseded or
   * stopped). A topic left subscribed is one the client library believes it has, so a later fetch of
   * the same release would skip its SUBSCRIBE and the broker would never send the retained chunk again.
   */
  windowTopics: string[];
  progressed: boolean;
  attempts: number;
  timer: unknown;
  startedAt: number;
}

type Outcome = 'rejected' | 'skipped' | 'installed' | 'failed';

export class ReleaseReceiver {
  private readonly ctx: ReceiverContext;
  private readonly timers: Timers;
  private readonly limits: ManifestLimits;
  private transfer: Transfer | undefined;
  /** The last manifest payload acted on, so a retained redelivery after a reconnect is not redone. */
  private last: { digest: string; outcome: Outcome } | undefined;
  private removeListener: (() => void) | undefined;
  private running = false;
  /** Releases handed to the host (onRelease) and not yet installed: stop() waits for them. */
  private readonly installs = new Set<Promise<void>>();
  /** Installs handed to the host run one after the other. */
  private readonly chain = new InstallChain();

  constructor(ctx: ReceiverContext) {
    this.ctx = ctx;
    this.timers = ctx.timers ?? realTimers;
    this.limits = ctx.limits ?? DEFAULT_LIMITS;
  }

  get busy(): boolean {
    return this.transfer !== undefined;
  }

  /** Whether the host is installing a release this receiver handed it. */
  get installing(): boolean {
    return this.installs.size > 0;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.removeListener = this.ctx.transport.onMessage((topic, payload) => this.onMessage(topic, payload));
    await this.ctx.transport.subscribe([this.ctx.topics.manifest(this.ctx.channel)]);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const topics = [this.ctx.topics.manifest(this.ctx.channel), ...(this.transfer?.windowTopics ?? [])];
    this.dropTransfer();
    this.removeListener?.();
    this.removeListener = undefined;
    await this.ctx.transport.unsubscribe(topics).catch((err: unknown) => this.transportError(err));
    // An install already under way is finished, not abandoned (the host's install is atomic, but it is
    // still writing): once stop() resolves nothing this receiver started runs on, so its host can exit.
    await Promise.all(this.installs);
  }

  private emit(event: ReceiverEvent): void {
    this.ctx.onEvent?.(event);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!this.running) return;
    if (topic === this.ctx.topics.manifest(this.ctx.channel)) this.onManifest(payload);
    else if (this.transfer) this.onChunk(this.transfer, topic, payload);
  }

  private onManifest(payload: Buffer): void {
    // An empty retained message clears the topic: nothing to act on.
    if (payload.length === 0) return;
    const digest = createHash('sha256').update(payload).digest('hex');
    if (this.transfer?.digest === digest) return;
    if (this.last?.digest === digest && this.last.outcome !== 'failed') return;
    let manifest: SignedManifest;
    try {
      manifest = checkManifest(payload, {
        keys: this.ctx.keys,
        channel: this.ctx.channel,
        limits: this.limits,
      });
    } catch (err) {
      this.last = { digest, outcome: 'rejected' };
      const code = codeOf(err);
      this.emit({ type: 'rejected', code, reason: errorMessage(err), verified: refusedAfterSignature(code) });
      return;
    }
    const decision = decide({
      manifest,
      state: this.ctx.state(),
      deviceId: this.ctx.deviceId,
      agentVersion: this.ctx.agentVersion,
    });
    const { version, serial } = manifest;
    if (decision.action !== 'fetch') {
      this.last = { digest, outcome: decision.action === 'skip' ? 'skipped' : 'rejected' };
      if (decision.action === 'skip')
        this.emit({ type: 'skipped', code: decision.code, reason: decision.reason, version, serial });
      else
        this.emit({
          type: 'rejected',
          code: decision.code,
          reason: decision.reason,
          verified: true,
          version,
          serial,
        });
      return;
    }
    if (this.transfer) {
      const old = this.transfer.manifest;
      this.failTransfer(
        new BookrecError(
          'TRANSFER_SUPERSEDED',
          `version ${old.version} superseded by manifest serial ${serial}`,
        ),
      );
    }
    this.startTransfer(manifest, digest);
  }

  private startTransfer(manifest: SignedManifest, digest: string): void {
    const allocate = this.ctx.allocate ?? ((size: number) => Buffer.alloc(size));
    // checkManifest has already bounded every size claimed, so these allocations are bounded too.
    const assemblies = manifest.files.map((f) => new FileAssembly(f, allocate));
    const totalChunks = manifest.files.reduce((n, f) => n + f.chunks, 0);
    this.transfer = {
      manifest,
      digest,
      assemblies,
      totalChunks,
      receivedChunks: 0,
      window: new Map(),
      windowTopics: [],
      progressed: false,
      attempts: 0,
      timer: undefined,
      startedAt: this.timers.now(),
    };
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
    this.emit({
      type: 'started',
      version: manifest.version,
      serial: manifest.serial,
      bytes,
      chunks: totalChunks,
    });
    this.nextWindow(this.transfer);
  }

  /** Asks for the next missing chunks, or finishes when none are missing. */
  private nextWindow(t: Transfer): void {
    const size = Math.max(1, this.ctx.windowChunks ?? 16);
    const old = t.windowTopics;
    t.window.clear();
    for (let file = 0; file < t.assemblies.length && t.window.size < size; file++) {
      for (const chunk of t.assemblies[file].missing(size - t.window.size)) {
        const topic = this.ctx.topics.chunk({
          channel: t.manifest.channel,
          version: t.manifest.version,
          file,
          chunk,
        });
        t.window.set(topic, { file, chunk });
      }
    }
    t.windowTopics = [...t.window.keys()];
    this.unsubscribe(old);
    if (t.window.size === 0) {
      const install = this.finish(t).catch((err: unknown) => this.transportError(err));
      this.installs.add(install);
      void install.finally(() => this.installs.delete(install));
      return;
    }
    this.subscribe(t.windowTopics);
    this.armTimer(t);
  }

  private armTimer(t: Transfer): void {
    this.timers.clearTimeout(t.timer);
    t.progressed = false;
    t.timer = this.timers.setTimeout(() => this.onTimeout(t), this.ctx.chunkTimeoutMs ?? 15_000);
  }

  private onTimeout(t: Transfer): void {
    if (this.transfer !== t) return;
    t.attempts = t.progressed ? 1 : t.attempts + 1;
    const maxAttempts = this.ctx.maxAttempts ?? 5;
    if (t.attempts >= maxAttempts) {
      const missing = [...t.window.values()].map((a) => `${t.manifest.files[a.file].name}#${a.chunk}`);
      this.failTransfer(
        new BookrecError(
          'TRANSFER_TIMEOUT',
          `${t.totalChunks - t.receivedChunks} chunks never arrived after ${t.attempts} attempts (first missing: ${missing.slice(0, 5).join(', ')})`,
        ),
      );
      return;
    }
    // Subscribing again makes the broker send the retained chunks again; unsubscribing first matters
    // because a client library may skip a subscription it believes it already has. windowTopics keeps
    // the whole window (the chunks that did arrive are still subscribed, and are released with it).
    const pending = [...t.window.keys()];
    this.emit({ type: 'retry', version: t.manifest.version, missing: pending.length, attempt: t.attempts });
    this.resubscribe(t, pending).catch((err: unknown) => this.transportError(err));
    this.armTimer(t);
  }

  private async resubscribe(t: Transfer, topics: string[]): Promise<void> {
    await this.ctx.transport.unsubscribe(topics).catch((err: unknown) => this.transportError(err));
    if (this.transfer === t) this.subscribe(topics);
  }

  private onChunk(t: Transfer, topic: string, payload: Buffer): void {
    const address = this.ctx.topics.parseChunk(topic);
    if (!address || address.channel !== t.manifest.channel || address.version !== t.manifest.version) return;
    const assembly = t.assemblies[address.file];
    if (!assembly) return;
    try {
      if (assembly.add(address.chunk, payload) === 'duplicate') return;
    } catch (err) {
      this.failTransfer(err);
      return;
    }
    t.receivedChunks++;
    t.progressed = true;
    t.window.delete(topic);
    this.emit({
      type: 'progress',
      version: t.manifest.version,
      receivedChunks: t.receivedChunks,
      totalChunks: t.totalChunks,
    });
    if (t.window.size === 0) {
      t.attempts = 0;
      this.timers.clearTimeout(t.timer);
      this.nextWindow(t);
    }
  }

  private async finish(t: Transfer): Promise<void> {
    this.timers.clearTimeout(t.timer);
    const { manifest } = t;
    let files: ReceivedFile[];
    try {
      files = t.assemblies.map((a) => ({ name: a.file.name, data: a.verified() }));
    } catch (err) {
      this.failTransfer(err);
      return;
    }
    const bytes = files.reduce((n, f) => n + f.data.length, 0);
    this.transfer = undefined;
    this.last = { digest: t.digest, outcome: 'installed' };
    this.emit({
      type: 'complete',
      version: manifest.version,
      serial: manifest.serial,
      bytes,
      ms: this.timers.now() - t.startedAt,
    });
    const install = this.chain.run(() => this.ctx.onRelease({ manifest, files }));
    try {
      await install;
    } catch (err) {
      this.last = { digest: t.digest, outcome: 'failed' };
      this.emit({
        type: 'failed',
        code: 'INSTALL_FAILED',
        reason: errorMessage(err),
        version: manifest.version,
        serial: manifest.serial,
      });
    }
  }

  private failTransfer(err: unknown): void {
    const t = this.transfer;
    if (!t) return;
    this.unsubscribe(t.windowTopics);
    this.dropTransfer();
    this.last = { digest: t.digest, outcome: 'failed' };
    const { version, serial } = t.manifest;
    this.emit({ type: 'failed', code: codeOf(err), reason: errorMessage(err), version, serial });
  }

  /** Forgets the transfer and its buffers. */
  private dropTransfer(): void {
    if (this.transfer) this.timers.clearTimeout(this.transfer.timer);
    this.transfer = undefined;
  }

  private subscribe(topics: string[]): void {
    // A failed subscribe is not fatal: the window's timer asks again.
    this.ctx.transport.subscribe(topics).catch((err: unknown) => this.transportError(err));
  }

  private unsubscribe(topics: string[]): void {
    if (topics.length === 0) return;
    this.ctx.transport.unsubscribe(topics).catch((err: unknown) => this.transportError(err));
  }

  private transportError(err: unknown): void {
    this.emit({ type: 'transport', reason: errorMessage(err) });
  }
}

function codeOf(err: unknown): string {
  return isBookrecError(err) ? err.code : 'INTERNAL';
}
