import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { DISCOVERY_PREFIX, discoveryConfigs, discoveryTopics } from '../common/protocol/homeAssistant.js';
import type { TopicMap } from '../common/protocol/topics.js';
import { withTimeout } from '../common/protocol/transport.js';
import { homeAssistantIdProblem } from './config.js';
import type { AgentLink } from './mqttLink.js';
import type { Outbox } from './outbox.js';
import { STATE_FILE_MODE } from './stateDir.js';

/**
 * Home Assistant discovery on the device (common/protocol/homeAssistant.ts makes the configs). With
 * discovery on, the configs are published retained on every connect (a cleared one comes back); the
 * discovery prefix used is written to homeassistant.json in the state folder, so that when discovery
 * is turned off the next start clears those configs (empty retained messages) and forgets the file.
 * `bookrec agent --homeassistant-remove` clears them on purpose (before uninstalling).
 */
export interface DiscoveryContext {
  enabled: boolean;
  prefix: string;
  stateDir: string;
  deviceId: string;
  topics: TopicMap;
  agentVersion: string;
  outbox: Outbox;
  log: Logger;
}

const FILE = 'homeassistant.json';

export class HomeAssistantDiscovery {
  constructor(private readonly ctx: DiscoveryContext) {
    // agentConfig() refuses this first (the same text), for start and --check-config alike.
    const problem = ctx.enabled ? homeAssistantIdProblem(ctx.deviceId) : undefined;
    if (problem) throw new BookrecError('CONFIG_INVALID', problem);
  }

  /** On every connect: announce (discovery on), or clear what an earlier run announced (off). */
  async connected(): Promise<void> {
    if (this.ctx.enabled) return this.announce();
    const prefix = await this.announcedPrefix();
    if (prefix !== undefined) await this.clear(discoveryTopics(this.ctx.deviceId, prefix));
  }

  /** Publishes every config retained and remembers the topics. */
  async announce(): Promise<void> {
    const configs = discoveryConfigs(this.ctx);
    await writeFileAtomic(
      join(this.ctx.stateDir, FILE),
      JSON.stringify({ prefix: this.ctx.prefix }),
      STATE_FILE_MODE,
    );
    for (const c of configs) {
      await this.ctx.outbox.send({
        topic: c.topic,
        payload: JSON.stringify(c.config),
        options: { retain: true, json: true },
        key: c.topic,
      });
    }
    this.ctx.log.info('home assistant discovery announced', {
      entities: configs.length,
      prefix: this.ctx.prefix,
    });
  }

  /** Empty retained messages on the given topics (default: every topic of this device), then forgets them. */
  async clear(topics = discoveryTopics(this.ctx.deviceId, this.ctx.prefix)): Promise<void> {
    for (const topic of topics) {
      await this.ctx.outbox.send({ topic, payload: '', options: { retain: true }, key: topic });
    }
    await rm(join(this.ctx.stateDir, FILE), { force: true });
    this.ctx.log.info('home assistant discovery removed', { configs: topics.length });
  }

  /** The prefix an earlier run announced under, when it did. */
  private async announcedPrefix(): Promise<string | undefined> {
    try {
      const saved = JSON.parse(await readFile(join(this.ctx.stateDir, FILE), 'utf8')) as { prefix?: unknown };
      return typeof saved.prefix === 'string' && DISCOVERY_PREFIX.test(saved.prefix)
        ? saved.prefix
        : this.ctx.prefix;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.ctx.log.warn('homeassistant.json unreadable: clearing under the configured prefix', {
        error: errorMessage(err),
      });
      return this.ctx.prefix;
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
      throw new BookrecError('BROKER_UNREACHABLE', 'the broker did not take the empty configs');
  } finally {
    await ctx.link.stop();
  }
}
