import { connect, type Socket } from 'node:net';
import { BookrecError } from '../../../common/errors.js';
import {
  commandLine,
  describeAddress,
  LineSplitter,
  type MpdAck,
  type MpdAddress,
  type MpdPair,
  readResponseLine,
} from './protocol.js';

/**
 * One connection to MPD, speaking its text protocol over a TCP or local socket: the greeting, the
 * password, commands one at a time, and `idle` (which waits for a change and can be cut short with
 * `noidle`). Every line is at most maxLineBytes and every response at most maxResponseBytes: past
 * that the rest of the response is read and dropped, and the command fails with MPD_RESPONSE_TOO_LARGE,
 * so a huge queue cannot make the agent hold it all. A connection is not reopened here: it fails once
 * and is closed; whoever opened it decides when to try again (mpdSource.ts, with backoff).
 *
 * The password goes out once, as the argument of `password`, and appears in no error or log.
 */
export interface MpdClientOptions {
  address: MpdAddress;
  /** Empty: none sent. */
  password: string;
  /** Connecting, and every command but idle. */
  timeoutMs: number;
  maxLineBytes: number;
  maxResponseBytes: number;
  /** Aborting closes the connection, also while it is being opened. */
  signal?: AbortSignal;
}

interface Pending {
  pairs: MpdPair[];
  bytes: number;
  tooLarge: boolean;
  resolve(pairs: MpdPair[]): void;
  reject(err: Error): void;
}

export class MpdConnection {
  readonly where: string;
  /** MPD's protocol version, from the greeting. */
  version = '';
  private readonly socket: Socket;
  private readonly options: MpdClientOptions;
  private readonly splitter: LineSplitter;
  private pending: Pending | undefined;
  private greeted = false;
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly closeListeners: ((err: Error) => void)[] = [];

  private constructor(socket: Socket, options: MpdClientOptions) {
    this.socket = socket;
    this.options = options;
    this.where = describeAddress(options.address);
    this.splitter = new LineSplitter(options.maxLineBytes);
    socket.on('data', (chunk: Buffer) => this.splitter.push(chunk, (line) => this.line(line)));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new BookrecError('MPD_CONNECT', `MPD at ${this.where}: ${err.code ?? err.message}`)),
    );
    socket.on('close', () =>
      this.fail(new BookrecError('MPD_CLOSED', `MPD at ${this.where} closed the connection`)),
    );
  }

  /** Connects, reads the greeting, sends the password if there is one. */
  static async open(options: MpdClientOptions): Promise<MpdConnection> {
    const socket =
      'path' in options.address
        ? connect({ path: options.address.path })
        : connect({ host: options.address.host, port: options.address.port });
    const conn = new MpdConnection(socket, options);
    const abort = () => conn.close();
    options.signal?.addEventListener('abort', abort, { once: true });
    conn.onClose(() => options.signal?.removeEventListener('abort', abort));
    if (options.signal?.aborted) conn.close();
    try {
      await conn.withTimeout(
        new Promise<MpdPair[]>((resolve, reject) => conn.expect(resolve, reject)),
        'the greeting',
      );
      if (options.password !== '') await conn.command('password', [options.password]);
      return conn;
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** One command; its "key: value" lines. An ACK becomes a BookrecError naming MPD's message. */
  command(name: string, args: readonly string[] = []): Promise<MpdPair[]> {
    const line = commandLine(name, args);
    return this.serial(() => this.withTimeout(this.send(line), name));
  }

  /**
   * Waits until one of `subsystems` changes and returns what changed. With waitMs, stops waiting after
   * that long (noidle) and returns what changed meanwhile, often nothing.
   */
  idle(subsystems: readonly string[], waitMs?: number): Promise<string[]> {
    const line = commandLine('idle', subsystems);
    return this.serial(async () => {
      const reply = this.send(line);
      let dead: NodeJS.Timeout | undefined;
      // After noidle MPD answers at once; silence then means the peer is gone (no FIN on a dropped link).
      const timer =
        waitMs === undefined
          ? undefined
          : setTimeout(() => {
              this.write('noidle\n');
              dead = setTimeout(() => this.fail(this.timeoutError('noidle')), this.options.timeoutMs);
            }, waitMs);
      try {
        return (await reply).filter((p) => p.key === 'changed').map((p) => p.value);
      } finally {
        clearTimeout(timer);
        clearTimeout(dead);
      }
    });
  }

  /** Called once when the connection ends, with why (at once if it already has). */
  onClose(listener: (err: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.closeListeners.push(listener);
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  close(): void {
    this.fail(new BookrecError('MPD_CLOSED', `connection to MPD at ${this.where} closed`));
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private send(line: string): Promise<MpdPair[]> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<MpdPair[]>((resolve, reject) => this.expect(resolve, reject));
    this.write(line);
    return reply;
  }

  private expect(resolve: (pairs: MpdPair[]) => void, reject: (err: Error) => void): void {
    if (this.failure) {
      reject(this.failure);
      return;
    }
    this.pending = { pairs: [], bytes: 0, tooLarge: false, resolve, reject };
  }

  private write(line: string): void {
    if (!this.failure) this.socket.write(line);
  }

  private async withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = this.timeoutError(what);
        this.fail(err);
        reject(err);
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private timeoutError(what: string): BookrecError {
    return new BookrecError(
      'MPD_TIMEOUT',
      `MPD at ${this.where}: no answer to ${what} within ${this.options.timeoutMs} ms`,
    );
  }

  private line(text: string | undefined): void {
    const p = this.pending;
    if (!p) {
      this.fail(new BookrecError('MPD_PROTOCOL', `MPD at ${this.where} sent a line nobody asked for`));
      return;
    }
    if (text === undefined) {
      // Longer than maxLineBytes: already dropped; the response is incomplete.
      p.tooLarge = true;
      return;
    }
    if (!this.greeted) {
      const m = /^OK MPD (\S+)$/.exec(text);
      if (!m) {
        this.fail(
          new BookrecError(
            'MPD_PROTOCOL',
            `${this.where} is not an MPD server (it greeted with something else)`,
          ),
        );
        return;
      }
      this.greeted = true;
      this.version = m[1];
      this.settle((q) => q.resolve([]));
      return;
    }
    const parsed = readResponseLine(text);
    switch (parsed.kind) {
      case 'ok':
        if (p.tooLarge) {
          const limit = `${this.options.maxResponseBytes} bytes (lines ${this.options.maxLineBytes})`;
          this.settle((q) =>
            q.reject(
              new BookrecError(
                'MPD_RESPONSE_TOO_LARGE',
                `MPD at ${this.where}: a response over ${limit} was dropped`,
              ),
            ),
          );
        } else this.settle((q) => q.resolve(q.pairs));
        return;
      case 'ack':
        this.settle((q) => q.reject(ackError(parsed.ack, this.where)));
        return;
      case 'pair':
        p.bytes += Buffer.byteLength(text) + 1;
        if (p.bytes > this.options.maxResponseBytes) {
          p.tooLarge = true;
          p.pairs = [];
        }
        if (!p.tooLarge) p.pairs.push(parsed.pair);
        return;
      case 'other':
        this.fail(
          new BookrecError('MPD_PROTOCOL', `MPD at ${this.where} sent a line that is not "key: value"`),
        );
    }
  }

  private settle(done: (p: Pending) => void): void {
    const p = this.pending!;
    this.pending = undefined;
    done(p);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.socket.destroy();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
    for (const listener of this.closeListeners.splice(0)) listener(err);
  }
}

/** MPD's own words for the refusal, with a code scripts can match; the command's arguments are left out. */
function ackError(ack: MpdAck, where: string): BookrecError {
  if (ack.code === 3)
    return new BookrecError('MPD_PASSWORD', `MPD at ${where} refused the password (${ack.message})`);
  if (ack.code === 4) {
    return new BookrecError(
      'MPD_PERMISSION',
      `MPD at ${where} needs a password for "${ack.command}" (set signals.mpdPassword): ${ack.message}`,
    );
  }
  return new BookrecError(
    'MPD_ACK',
    `MPD at ${where}: ${ack.command || 'command'} failed: ${ack.message} (error ${ack.code})`,
  );
}
