import type { TopicMap } from './topics.js';

/**
 * Home Assistant MQTT discovery: the retained configs a speaker publishes so it appears in Home
 * Assistant by itself, as zigbee2mqtt's and ESPHome's devices do. One device with five entities, all
 * reading the topics the agent publishes anyway; the button and the switch send ordinary commands
 * (commands.ts) with fixed ids, so their replies are like any other. Field names are Home Assistant's
 * full names (docs/home-assistant.md; test/common/protocol/homeAssistant.test.ts checks each against
 * Home Assistant's documentation). The one place these configs and their topics are made: the agent
 * announces and removes them, `bookrec fleet forget` clears them.
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
  /** Discovery prefix, `homeassistant` unless Home Assistant was configured otherwise. */
  prefix: string;
}

export interface DiscoveryConfig {
  component: 'button' | 'sensor' | 'switch';
  topic: string;
  config: Record<string, unknown>;
}

/** Entities: [component, object id]. The object ids start with bookrec_ so they cannot meet others'. */
const ENTITIES = [
  ['button', 'bookrec_recommend'],
  ['sensor', 'bookrec_model_version'],
  ['sensor', 'bookrec_last_recommendation'],
  ['sensor', 'bookrec_acceptance'],
  ['switch', 'bookrec_quiet'],
] as const;

/** Topics of every config of one device, for clearing (empty retained messages). */
export function discoveryTopics(deviceId: string, prefix: string): string[] {
  return ENTITIES.map(([component, object]) => `${prefix}/${component}/${deviceId}/${object}/config`);
}

export function discoveryConfigs(input: DiscoveryInput): DiscoveryConfig[] {
  const { deviceId, topics, agentVersion } = input;
  const commands = topics.device(deviceId, 'commands');
  const command = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, command: extra.on === undefined ? 'recommend' : 'quiet', ...extra });
  const common = (object: string, name: string) => ({
    name,
    unique_id: `${deviceId}_${object}`,
    // The retained status says online, and its last will offline.
    availability: [
      {
        topic: topics.device(deviceId, 'status'),
        value_template: '{{ value_json.state }}',
        payload_available: 'online',
        payload_not_available: 'offline',
      },
    ],
    device: {
      identifiers: [`bookrec_${deviceId}`],
      name: `Book speaker ${deviceId}`,
      manufacturer: 'edge-bookrec',
      model: 'Book recommendation speaker',
      sw_version: agentVersion,
    },
    origin: { name: 'bookrec', sw_version: agentVersion },
  });
  const configs: Record<(typeof ENTITIES)[number][1], Record<string, unknown>> = {
    bookrec_recommend: {
      ...common('bookrec_recommend', 'Recommend a book'),
      command_topic: commands,
      payload_press: command(HA_COMMAND_IDS.recommend),
      icon: 'mdi:book-open-page-variant',
    },
    bookrec_model_version: {
      ...common('bookrec_model_version', 'Model version'),
      state_topic: topics.device(deviceId, 'status'),
      value_template: '{{ value_json.model.version if value_json.model else "none" }}',
      entity_category: 'diagnostic',
      icon: 'mdi:brain',
    },
    bookrec_last_recommendation: {
      ...common('bookrec_last_recommendation', 'Last recommendation'),
      state_topic: topics.device(deviceId, 'recommendations'),
      // A state is at most 255 characters; the books and the reason go to the attributes.
      value_template: '{{ value_json.text | truncate(250) }}',
      json_attributes_topic: topics.device(deviceId, 'recommendations'),
      json_attributes_template:
        "{{ {'books': value_json.books | map(attribute='title') | list, 'reason': value_json.reason, 'trigger': value_json.trigger} | tojson }}",
      icon: 'mdi:bookshelf',
    },
    bookrec_acceptance: {
      ...common('bookrec_acceptance', 'Acceptance'),
      state_topic: topics.device(deviceId, 'counters'),
      // accepted / recommendations over every model version in the counters; None before any answer.
      value_template:
        "{% set n = value_json.versions | sum(attribute='recommendations') %}{{ ((value_json.versions | sum(attribute='accepted')) * 100 / n) | round(1) if n > 0 else None }}",
      unit_of_measurement: '%',
      state_class: 'measurement',
      icon: 'mdi:thumb-up',
    },
    bookrec_quiet: {
      ...common('bookrec_quiet', 'Quiet mode'),
      command_topic: commands,
      payload_on: command(HA_COMMAND_IDS.quietOn, { on: true }),
      payload_off: command(HA_COMMAND_IDS.quietOff, { on: false }),
      state_topic: topics.device(deviceId, 'mode'),
      value_template: '{{ "ON" if value_json.quiet else "OFF" }}',
      state_on: 'ON',
      state_off: 'OFF',
      icon: 'mdi:volume-off',
    },
  };
  const targets = discoveryTopics(deviceId, input.prefix);
  return ENTITIES.map(([component, object], i) => ({
    component,
    topic: targets[i],
    config: configs[object],
  }));
}
