import { BookrecError } from '../errors.js';
import type { TopicMap } from './topics.js';

/**
 * Home Assistant MQTT discovery: the one retained config a speaker publishes so it appears in Home
 * Assistant by itself, as zigbee2mqtt's and ESPHome's devices do. Device-based discovery: one message
 * on `<prefix>/device/<device id>/config` with the device (`dev`), the origin (`o`) and its entities
 * (`cmps`), all reading the topics the agent publishes anyway; the button and the switch send ordinary
 * commands (commands.ts) with fixed ids, so their replies are like any other. One topic per device is
 * what the broker's ACL can pin to the device's own login (deploy/mosquitto/acl); the broker cannot read
 * payloads, so `ownTopicProblems` checks that every topic in the config is this device's own before it
 * is sent. Field names are Home Assistant's (docs/home-assistant.md;
 * test/common/protocol/homeAssistant.test.ts checks them). The one place these configs and their topics
 * are made: the agent announces and removes them, `bookrec fleet forget` clears them.
 */
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';
/** A discovery prefix: topic levels of safe characters, no wildcards. */
export const DISCOVERY_PREFIX = /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64}){0,3}$/;

/** The fixed command ids Home Assistant sends (it can only send fixed payloads). */
export const HA_COMMAND_IDS = { recommend: 'ha-recommend', quietOn: 'ha-quiet-on', quietOff: 'ha-quiet-off' };

/** Home Assistant's discovery topics allow no '.' in a node id: [A-Za-z0-9_-] only. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isDiscoveryNodeId(deviceId: string): boolean {
  return NODE_ID.test(deviceId);
}

export interface DiscoveryInput {
  deviceId: string;
  topics: TopicMap;
  agentVersion: string;
  /** The channel the speaker follows: its manifest is the update entity's latest version. */
  channel: string;
  /** Discovery prefix, `homeassistant` unless Home Assistant was configured otherwise. */
  prefix: string;
  /** The installed release's evaluation card in one line (the update entity's release summary). */
  releaseSummary?: string;
}

/** Home Assistant keeps at most this much of an update's release summary. */
export const RELEASE_SUMMARY_MAX = 255;

export type Platform = 'button' | 'sensor' | 'switch' | 'update';

/** Entities: [platform, component id]. The ids start with bookrec_ so they cannot meet others'. */
const COMPONENTS = [
  ['button', 'bookrec_recommend'],
  ['sensor', 'bookrec_model_version'],
  ['sensor', 'bookrec_last_recommendation'],
  ['sensor', 'bookrec_acceptance'],
  ['switch', 'bookrec_quiet'],
  ['update', 'bookrec_model_update'],
] as const;

/** The one discovery topic of a device. */
export function deviceDiscoveryTopic(deviceId: string, prefix: string): string {
  return `${prefix}/device/${nodeId(deviceId)}/config`;
}

/**
 * The per-entity topics agents before device-based discovery announced on (five entities, node id =
 * device id): cleared once on upgrade, and by `bookrec fleet forget`.
 */
export function legacyDiscoveryTopics(deviceId: string, prefix: string): string[] {
  return COMPONENTS.filter(([, id]) => id !== 'bookrec_model_update').map(
    ([platform, id]) => `${prefix}/${platform}/${nodeId(deviceId)}/${id}/config`,
  );
}

/** Every discovery topic a device may have left retained, for clearing (empty retained messages). */
export function discoveryTopics(deviceId: string, prefix: string): string[] {
  return [deviceDiscoveryTopic(deviceId, prefix), ...legacyDiscoveryTopics(deviceId, prefix)];
}

function nodeId(deviceId: string): string {
  if (!isDiscoveryNodeId(deviceId)) {
    throw new BookrecError(
      'CONFIG_INVALID',
      `homeassistant: device id ${JSON.stringify(deviceId)} cannot be a Home Assistant node id (A-Z a-z 0-9 _ - only, no '.'); set --device-id`,
    );
  }
  return deviceId;
}

export interface DeviceDiscovery {
  topic: string;
  config: { dev: Record<string, unknown>; o: Record<string, unknown>; cmps: Record<string, Component> };
}

export type Component = { platform: Platform } & Record<string, unknown>;

export function deviceDiscovery(input: DiscoveryInput): DeviceDiscovery {
  const { deviceId, topics, agentVersion } = input;
  const own = (kind: Parameters<TopicMap['device']>[1]) => topics.device(deviceId, kind);
  const commands = own('commands');
  const command = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, command: extra.on === undefined ? 'recommend' : 'quiet', ...extra });
  // The retained status says online, and its last will offline: availability for every entity.
  const availability = [
    {
      topic: own('status'),
      value_template: '{{ value_json.state }}',
      payload_available: 'online',
      payload_not_available: 'offline',
    },
  ];
  const entity = (id: string, name: string) => ({ name, unique_id: `${deviceId}_${id}`, availability });
  // The installed model from the retained report: the last will replaces the status (state offline, no
  // model), never the report, so the version stays while availability says offline.
  const installed = '{{ value_json.model.version if value_json.model else "none" }}';
  const cmps: Record<(typeof COMPONENTS)[number][1], Component> = {
    bookrec_recommend: {
      platform: 'button',
      ...entity('bookrec_recommend', 'Recommend a book'),
      command_topic: commands,
      payload_press: command(HA_COMMAND_IDS.recommend),
      icon: 'mdi:book-open-page-variant',
    },
    bookrec_model_version: {
      platform: 'sensor',
      ...entity('bookrec_model_version', 'Model version'),
      state_topic: own('report'),
      value_template: installed,
      entity_category: 'diagnostic',
      icon: 'mdi:brain',
    },
    bookrec_last_recommendation: {
      platform: 'sensor',
      ...entity('bookrec_last_recommendation', 'Last recommendation'),
      // Retained by the agent, so the last answer is there again after a Home Assistant restart.
      state_topic: own('recommendations'),
      // A state is at most 255 characters; the books and the reason go to the attributes.
      value_template: '{{ value_json.text | truncate(250) }}',
      json_attributes_topic: own('recommendations'),
      json_attributes_template:
        "{{ {'books': value_json.books | map(attribute='title') | list, 'reason': value_json.reason, 'trigger': value_json.trigger} | tojson }}",
      icon: 'mdi:bookshelf',
    },
    bookrec_acceptance: {
      platform: 'sensor',
      ...entity('bookrec_acceptance', 'Acceptance'),
      state_topic: own('counters'),
      // accepted / recommendations over every model version in the counters; None before any answer.
      value_template:
        "{% set n = value_json.versions | sum(attribute='recommendations') %}{{ ((value_json.versions | sum(attribute='accepted')) * 100 / n) | round(1) if n > 0 else None }}",
      unit_of_measurement: '%',
      state_class: 'measurement',
      icon: 'mdi:thumb-up',
    },
    bookrec_quiet: {
      platform: 'switch',
      ...entity('bookrec_quiet', 'Quiet mode'),
      command_topic: commands,
      payload_on: command(HA_COMMAND_IDS.quietOn, { on: true }),
      payload_off: command(HA_COMMAND_IDS.quietOff, { on: false }),
      state_topic: own('mode'),
      value_template: '{{ "ON" if value_json.quiet else "OFF" }}',
      state_on: 'ON',
      state_off: 'OFF',
      icon: 'mdi:volume-off',
    },
    // Shown like firmware: installed (the report) and latest (the channel's signed manifest). No
    // command_topic: Home Assistant cannot start an install, the fleet's rollout decides.
    bookrec_model_update: {
      platform: 'update',
      ...entity('bookrec_model_update', 'Book model'),
      device_class: 'firmware',
      entity_category: 'diagnostic',
      title: 'Book recommendation model',
      state_topic: own('report'),
      value_template: installed,
      latest_version_topic: topics.manifest(input.channel),
      latest_version_template: '{{ value_json.version }}',
      // The card of the release the speaker runs: a static key, re-announced on every install (Home
      // Assistant takes a summary from the state topic only once, so a changing one must come this way).
      ...(input.releaseSummary
        ? { release_summary: input.releaseSummary.slice(0, RELEASE_SUMMARY_MAX) }
        : {}),
    },
  };
  const config = {
    dev: {
      identifiers: [`bookrec_${deviceId}`],
      name: `Book speaker ${deviceId}`,
      manufacturer: 'edge-bookrec',
      model: 'Book recommendation speaker',
      sw_version: agentVersion,
    },
    o: { name: 'bookrec', sw_version: agentVersion },
    cmps,
  };
  const problems = ownTopicProblems(config, input);
  if (problems.length > 0) {
    throw new BookrecError('INTERNAL', `discovery config names topics not its own: ${problems.join('; ')}`);
  }
  return { topic: deviceDiscoveryTopic(deviceId, input.prefix), config };
}

/**
 * Every topic in a discovery config must be one of this device's own (and its command topics exactly
 * its commands topic); the one shared topic allowed is the followed channel's manifest, which Home
 * Assistant only reads. Returns what breaks that, empty when nothing does. A config naming another
 * device's commands would make Home Assistant write there for it (issue 21, item 6).
 */
export function ownTopicProblems(
  config: DeviceDiscovery['config'],
  input: Pick<DiscoveryInput, 'deviceId' | 'topics' | 'channel'>,
): string[] {
  const commands = input.topics.device(input.deviceId, 'commands');
  const manifest = input.topics.manifest(input.channel);
  const ownRoot = commands.slice(0, -'commands'.length);
  // A read topic: one level under the device's own root (not its commands), or the channel manifest.
  const readable = (topic: string) =>
    topic === manifest ||
    (topic.startsWith(ownRoot) && /^[a-z]+$/.test(topic.slice(ownRoot.length)) && topic !== commands);
  const problems: string[] = [];
  const check = (where: string, key: string, value: unknown) => {
    const ok = typeof value === 'string' && (key === 'command_topic' ? value === commands : readable(value));
    if (!ok) problems.push(`${where}.${key} = ${JSON.stringify(value)}`);
  };
  const topicKeys = (where: string, fields: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(fields)) if (key.endsWith('_topic')) check(where, key, value);
  };
  topicKeys('config', config);
  for (const [id, component] of Object.entries(config.cmps)) {
    topicKeys(id, component);
    const availability = Array.isArray(component.availability) ? component.availability : [];
    for (const a of availability as Record<string, unknown>[]) check(id, 'availability.topic', a.topic);
  }
  return problems;
}
