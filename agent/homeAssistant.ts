import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { CARD_FILE, cardSummary, validateCard } from '../common/model/evaluationCard.js';
import {
  DISCOVERY_PREFIX,
  deviceDiscovery,
  deviceDiscoveryTopic,
  legacyDiscoveryTopics,
} from '../common/protocol/homeAssistant.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { PublishOptions } from '../common/protocol/transport.js';
import { withTimeout } from '../common/protocol/transport.js';
import { homeAssistantIdProblem } from './config.js';
import type { AgentLink } from './mqttLink.js';
import type { Outbox } from './outbox.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * Home Assistant discovery on the device (common/protocol/homeAssistant.ts makes the config). With
 * discovery on, the one device config is published retained on every connect (a cleared one comes
 * back); the discovery prefix used is written to homeassistant.json in the state folder, so that when
 * discovery is turned off the next start clears that config (an empty retained message) and forgets
 * the file. `bookrec agent --homeassistant-remove` clears it on purpose (before uninstalling).
 *
 * Upgrade from the per-entity configs of earlier agents (homeassistant.json without `form: device`):
 * once, Home Assistant's migration (`{"migrate_discovery": true}` on each old topic, so the entities keep
 * their ids and settings), then the device config, then an empty retained message on each old topic.
 * The old topics are written directly, not through the outbox: the shipped ACL no longer lets a device
 * write them (docs/home-assistant.md, upgrading), and a refused message must not block the queue.
 */
export interface DiscoveryContext {
  enabled: boolean;
  prefix: string;
  stateDir: string;
  deviceId: string;
  topics: TopicMap;
  channel: string;
  agentVersion: string;
  outbox: Outbox;
  /** A publish now, for the old topics only: it may be refused. */
  publishNow: (topic: string, payload: string, options: PublishOptions) => Promise<void>;
  log: Logger;
  /** The folder of the installed release, when there is one: its card is the update's summary. */
  installedDir?: () => { dir: string; version: number } | undefined;
}

const FILE = 'homeassistant.json';

interface Announced {
  prefix: string;
  /** 'device' since device-based discovery; absent: per-entity configs. */
  device: boolean;
}

export class HomeAssistantDiscovery {
  constructor(private readonly ctx: DiscoveryContext) {
    // agentConfig() refuses this first (the same text), for start and --check-config alike.
    const problem = ctx.enabled ? homeAssistantIdProblem(ctx.deviceId) : undefined;
    if (problem) throw new BookrecError('CONFIG_INVALID', problem);
  }

  /** On every connect: announce (discovery on), or clear what an earlier run announced (off). */
  async connected(): Promise<void> {
    const before = await this.announced();
    if (this.ctx.enabled) return this.announce(before);
    if (before !== undefined) await this.clear(before);
  }

  /** Publishes the device config retained (first moving an earlier per-entity one over) and remembers it. */
  async announce(before?: Announced): Promise<void> {
    const installed = this.ctx.installedDir?.();
    const releaseSummary = installed
      ? await installedCardSummary(installed.dir, installed.version)
      : undefined;
    const { topic, config } = deviceDiscovery({ ...this.ctx, releaseSummary });
    const legacy = before && !before.device ? legacyDiscoveryTopics(this.ctx.deviceId, before.prefix) : [];
    await this.publishLegacy(legacy, JSON.stringify({ migrate_discovery: true }), false);
    await this.ctx.outbox.send({
      topic,
      payload: JSON.stringify(config),
      options: { retain: true, json: true },
      key: topic,
    });
    await this.publishLegacy(legacy, '', true);
    await writeFileAtomic(
      join(this.ctx.stateDir, FILE),
      JSON.stringify({ prefix: this.ctx.prefix, form: 'device' }),
      STATE_FILE_MODE,
    );
    this.ctx.log.info('home assistant discovery announced', {
      topic,
      entities: Object.keys(config.cmps).length,
      ...(legacy.length > 0 ? { oldConfigsCleared: legacy.length } : {}),
    });
  }

  /** A new model is in use: announced again with its card (discovery on), never failing the install. */
  async modelChanged(): Promise<void> {
    if (!this.ctx.enabled) return;
    await this.announce().catch((err: unknown) =>
      this.ctx.log.warn('home assistant discovery not renewed', { error: errorMessage(err) }),
    );
  }

  /** An empty retained config (default: what homeassistant.json says, else the configured prefix), then forgets it. */
  async clear(announced?: Announced): Promise<void> {
    const what = announced ?? (await this.announced()) ?? { prefix: this.ctx.prefix, device: true };
    const topic = deviceDiscoveryTopic(this.ctx.deviceId, what.prefix);
    if (what.device)
      await this.ctx.outbox.send({ topic, payload: '', options: { retain: true }, key: topic });
    else await this.publishLegacy(legacyDiscoveryTopics(this.ctx.deviceId, what.prefix), '', true);
    await rm(join(this.ctx.stateDir, FILE), { force: true });
    this.ctx.log.info('home assistant discovery removed', { prefix: what.prefix });
  }

  /** Best effort on the old per-entity topics: a broker that refuses them is told in the log. */
  private async publishLegacy(topics: string[], payload: string, retain: boolean): Promise<void> {
    for (const topic of topics) {
      try {
        await this.ctx.publishNow(topic, payload, { retain });
      } catch (err) {
        this.ctx.log.warn(
          'could not clear an old per-entity Home Assistant config: clear it as deploy (bookrec fleet forget, or an empty retained message)',
          { topic, error: errorMessage(err) },
        );
      }
    }
  }

  /** What an earlier run announced, when it did. */
  private async announced(): Promise<Announced | undefined> {
    try {
      const saved = JSON.parse(await readFile(join(this.ctx.stateDir, FILE), 'utf8')) as {
        prefix?: unknown;
        form?: unknown;
      };
      const prefix =
        typeof saved.prefix === 'string' && DISCOVERY_PREFIX.test(saved.prefix)
          ? saved.prefix
          : this.ctx.prefix;
      return { prefix, device: saved.form === 'device' };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.ctx.log.warn('homeassistant.json unreadable: clearing under the configured prefix', {
        error: errorMessage(err),
      });
      return { prefix: this.ctx.prefix, device: true };
    }
  }
}

export interface RemoveContext {
  link: AgentLink;
  outbox: Outbox;
  discovery: HomeAssistantDiscovery;
  timeoutMs: number;
}

/**
 * `bookrec agent --homeassistant-remove`: connect, clear this device's discovery configs, disconnect.
 * Run before uninstalling a speaker (the running agent clears them by itself when discovery is turned
 * off; `bookrec fleet forget` does it from the operator's side).
 */
export async function removeDiscovery(ctx: RemoveContext): Promise<void> {
  const connected = new Promise<void>((resolve) => ctx.link.onConnect(resolve));
  await ctx.link.start();
  try {
    await withTimeout(connected, ctx.timeoutMs, 'connect');
    await ctx.discovery.clear();
    if (ctx.outbox.size > 0)
      throw new BookrecError('BROKER_UNREACHABLE', 'the broker did not take the empty config');
  } finally {
    await ctx.link.stop();
  }
}

/**
 * "v7: NDCG@10 0.251 (...), 812 kB, trained ..." from the installed release's card.json (verified
 * against the signed manifest when it was installed), or undefined for a release without a card or one
 * whose card cannot be read (the summary is optional: the entity works without it, so this only logs).
 */
export async function installedCardSummary(dir: string, version: number): Promise<string | undefined> {
  const path = join(dir, CARD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return `v${version}: ${cardSummary(validateCard(JSON.parse(text), path))}`;
  } catch {
    return undefined;
  }
}
