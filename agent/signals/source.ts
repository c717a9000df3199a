import type { Logger } from '../../common/log.js';
import type { Catalogue } from '../../common/model/catalogue.js';
import type { Signal } from '../../common/protocol/signals.js';
import type { MessageTransport } from '../../common/protocol/transport.js';
import type { AgentConfig } from '../config.js';
import type { GpioLines } from './gpio/gpio.js';

/**
 * One way listening/reading signals reach the speaker: a JSONL file a player writes, the device's MQTT
 * signals topic, GPIO buttons, ... Every source is an adapter of this one interface, built from the
 * settings by a factory (undefined when the settings leave it off), and hands what it hears to a sink:
 * the intake (parse, check against the catalogue, store) and the responder (a button asking for
 * books). The service wires the list in signalSources.ts; adding a source is one new file there.
 */
export interface SignalSource {
  /** For logs and counters: 'file', 'mqtt', 'gpio', ... */
  readonly name: string;
  /** 'local' sources start with the service (offline too); 'broker' ones once MQTT is connected. */
  readonly needs: 'local' | 'broker';
  start(): Promise<void>;
  /**
   * 'broker' sources: called before the broker connects, to take messages the persistent session held
   * while the device was away (they arrive right after the CONNACK, before start() could subscribe).
   */
  listen?(): void;
  stop(): Promise<void>;
  /** How a source that keeps a connection is doing (MPD: connected, reconnecting, last error, counts). */
  health?(): object;
}

/** Where a source's events go; one per source, so every event is counted under the source's name. */
export interface SignalSink {
  /** One JSONL line or message payload: parsed and checked by the intake. */
  text(text: string): Promise<void>;
  /** An event the source built itself. */
  signal(signal: Signal): Promise<void>;
  /** The listener asks for a recommendation now (a button). */
  ask(): void;
  /** The book the last answer named first: what a like or skip button refers to. */
  lastAnswerBook(): number | undefined;
  /** The installed model's books (a source that names books by their tags matches them here). */
  catalogue(): Catalogue | undefined;
  /** Whether the listener's history has any event for the book (a first listening or not). */
  inHistory(bookId: number): boolean;
}

/** What a factory may use; `transport` only works for 'broker' sources (subscribing needs MQTT up). */
export interface SourceDeps {
  config: AgentConfig;
  sink: SignalSink;
  transport: () => MessageTransport;
  /** devices/<id>/signals */
  signalsTopic: string;
  log: Logger;
  /** GPIO lines tests hand in (no pins on this machine); undefined: from the settings. */
  gpio?: GpioLines;
}

export type SignalSourceFactory = (deps: SourceDeps) => SignalSource | undefined;
