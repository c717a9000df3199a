import { BookrecError } from '../errors.js';

/**
 * The one map of MQTT topics, shared by deploy and the agent so the two ends cannot drift. Every name
 * that becomes a topic level is checked here: a device id of `+` or `a/b` would otherwise widen an ACL
 * pattern or a subscription.
 */

/** Channel names, model ids and device ids: one topic level of safe characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,3}$/;

export const DEFAULT_TOPIC_PREFIX = 'bookrec';

export type NameKind = 'channel' | 'model id' | 'device id';

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

export function assertName(kind: NameKind, value: string): string {
  if (!isValidName(value)) {
    throw new BookrecError(
      'INVALID_NAME',
      `${kind} ${JSON.stringify(value)} must be 1-64 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)`,
    );
  }
  return value;
}

/** Where one chunk of one file of one release sits. */
export interface ChunkAddress {
  channel: string;
  version: number;
  /** Index of the file in the manifest's files list (names may hold characters a topic must not). */
  file: number;
  chunk: number;
}

export type DeviceTopicKind =
  | 'status'
  | 'report'
  | 'events'
  | 'recommendations'
  | 'signals'
  | 'commands'
  | 'replies'
  | 'counters'
  | 'mode';

/** Builds and parses the project's topics under one configurable prefix. */
export class TopicMap {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_TOPIC_PREFIX) {
    if (!PREFIX.test(prefix)) {
      throw new BookrecError(
        'INVALID_NAME',
        `topic prefix ${JSON.stringify(prefix)} must be 1-4 levels of A-Z a-z 0-9 . _ -`,
      );
    }
    this.prefix = prefix;
  }

  /** Retained, signed release manifest of a channel (deploy -> devices). */
  manifest(channel: string): string {
    return `${this.prefix}/fleet/${assertName('channel', channel)}/manifest`;
  }

  /** Every channel's manifest: the fleet view and the broker ACL use it. */
  allManifests(): string {
    return `${this.prefix}/fleet/+/manifest`;
  }

  /**
   * The signed manifest a release was first published with, kept retained beside its chunks: the index
   * that rollback reads and that publish uses to clear chunks of releases no longer referenced.
   */
  releaseRecord(channel: string, version: number): string {
    return `${this.releaseRoot(channel, version)}/manifest`;
  }

  /** Every release record of a channel. */
  releaseRecords(channel: string): string {
    return `${this.prefix}/releases/${assertName('channel', channel)}/+/manifest`;
  }

  /** One chunk (binary payload, retained) of one file of a release. */
  chunk(address: ChunkAddress): string {
    return `${this.releaseRoot(address.channel, address.version)}/${address.file}/${address.chunk}`;
  }

  /** Parses a chunk topic; undefined when the topic is not one. */
  parseChunk(topic: string): ChunkAddress | undefined {
    const head = `${this.prefix}/releases/`;
    if (!topic.startsWith(head)) return undefined;
    const parts = topic.slice(head.length).split('/');
    if (parts.length !== 4 || !isValidName(parts[0])) return undefined;
    const [version, file, chunk] = parts.slice(1).map(parseIndex);
    if (version === undefined || version < 1 || file === undefined || chunk === undefined) return undefined;
    return { channel: parts[0], version, file, chunk };
  }

  /** A device's own topics; the broker ACL lets a device write only its own. */
  device(deviceId: string, kind: DeviceTopicKind): string {
    return `${this.prefix}/devices/${assertName('device id', deviceId)}/${kind}`;
  }

  /** One kind of topic across all devices (fleet view, rollout abort rule). */
  allDevices(kind: DeviceTopicKind): string {
    return `${this.prefix}/devices/+/${kind}`;
  }

  /** The device id in a device topic of the given kind; undefined when the topic is not one. */
  parseDevice(topic: string, kind: DeviceTopicKind): string | undefined {
    const head = `${this.prefix}/devices/`;
    const tail = `/${kind}`;
    if (!topic.startsWith(head) || !topic.endsWith(tail)) return undefined;
    const id = topic.slice(head.length, topic.length - tail.length);
    return isValidName(id) ? id : undefined;
  }

  private releaseRoot(channel: string, version: number): string {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new BookrecError('INVALID_NAME', `release version ${version} must be a positive integer`);
    }
    return `${this.prefix}/releases/${assertName('channel', channel)}/${version}`;
  }
}

/** A non-negative decimal integer without sign or leading zeros, else undefined. */
function parseIndex(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) return undefined;
  return Number(text);
}

/** Whether a topic matches an MQTT subscription filter with + and # wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
