import t from 'tap';
import { parseCommand } from '../../../common/protocol/commands.js';
import {
  discoveryConfigs,
  discoveryTopics,
  HA_COMMAND_IDS,
  isDiscoveryNodeId,
} from '../../../common/protocol/homeAssistant.js';
import { TopicMap } from '../../../common/protocol/topics.js';

/*
 * The documented field names, from Home Assistant's MQTT documentation (home-assistant.io):
 * "MQTT" integration page, sections "MQTT Discovery" (the discovery topic
 * <discovery_prefix>/<component>/[<node_id>/]<object_id>/config, the `device` and `origin` mappings)
 * and the "Configuration Variables" of the platform pages integrations/button.mqtt,
 * integrations/sensor.mqtt and integrations/switch.mqtt. Every entity shares the first list; each
 * component adds its own. Full names only (the abbreviations are optional and not used).
 */
const ENTITY_FIELDS = [
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'default_entity_id',
  'device',
  'enabled_by_default',
  'encoding',
  'entity_category',
  'entity_picture',
  'icon',
  'json_attributes_template',
  'json_attributes_topic',
  'name',
  'object_id',
  'origin',
  'payload_available',
  'payload_not_available',
  'platform',
  'qos',
  'unique_id',
];
const COMPONENT_FIELDS: Record<string, string[]> = {
  button: ['command_template', 'command_topic', 'device_class', 'payload_press', 'retain'],
  sensor: [
    'device_class',
    'expire_after',
    'force_update',
    'last_reset_value_template',
    'options',
    'state_class',
    'state_topic',
    'suggested_display_precision',
    'unit_of_measurement',
    'value_template',
  ],
  switch: [
    'command_template',
    'command_topic',
    'device_class',
    'optimistic',
    'payload_off',
    'payload_on',
    'retain',
    'state_off',
    'state_on',
    'state_topic',
    'value_template',
  ],
};
const REQUIRED: Record<string, string[]> = {
  button: ['command_topic'],
  sensor: ['state_topic'],
  switch: ['command_topic'],
};
const AVAILABILITY_FIELDS = ['payload_available', 'payload_not_available', 'topic', 'value_template'];
const DEVICE_FIELDS = [
  'configuration_url',
  'connections',
  'hw_version',
  'identifiers',
  'manufacturer',
  'model',
  'model_id',
  'name',
  'serial_number',
  'suggested_area',
  'sw_version',
  'via_device',
];
const ORIGIN_FIELDS = ['name', 'sw_version', 'support_url'];
/** The discovery topic as Home Assistant matches it: node and object ids of [a-zA-Z0-9_-]. */
const DISCOVERY_TOPIC = /^homeassistant\/(button|sensor|switch)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/;

const topics = new TopicMap();
const configs = discoveryConfigs({
  deviceId: 'kitchen',
  topics,
  agentVersion: '0.1.0',
  prefix: 'homeassistant',
});

t.test('every field name is one Home Assistant documents, for its component', async (t) => {
  t.same(
    configs.map((c) => [c.component, c.topic.split('/')[3]]),
    [
      ['button', 'bookrec_recommend'],
      ['sensor', 'bookrec_model_version'],
      ['sensor', 'bookrec_last_recommendation'],
      ['sensor', 'bookrec_acceptance'],
      ['switch', 'bookrec_quiet'],
    ],
  );
  for (const { component, topic, config } of configs) {
    const allowed = new Set([...ENTITY_FIELDS, ...COMPONENT_FIELDS[component]]);
    t.same(
      Object.keys(config).filter((k) => !allowed.has(k)),
      [],
      `${component} ${topic}: no undocumented field`,
    );
    for (const k of REQUIRED[component]) t.type(config[k], 'string', `${topic}: ${k}`);
    t.match(topic, DISCOVERY_TOPIC);
    t.equal(topic.split('/')[2], 'kitchen', 'the node id is the device id');
    const availability = config.availability as Record<string, unknown>[];
    for (const a of availability)
      t.same(
        Object.keys(a).filter((k) => !AVAILABILITY_FIELDS.includes(k)),
        [],
      );
    t.equal(availability[0].topic, 'bookrec/devices/kitchen/status', 'availability from the status topic');
    const device = config.device as Record<string, unknown>;
    t.same(
      Object.keys(device).filter((k) => !DEVICE_FIELDS.includes(k)),
      [],
    );
    t.same(device.identifiers, ['bookrec_kitchen'], 'one device for all five entities');
    t.same(
      Object.keys(config.origin as object).filter((k) => !ORIGIN_FIELDS.includes(k)),
      [],
    );
    t.equal(config.unique_id, `kitchen_${topic.split('/')[3]}`, 'a unique id (needed for the device)');
  }
  t.same(
    configs.map((c) => c.topic),
    discoveryTopics('kitchen', 'homeassistant'),
  );
});

t.test('the button and the switch send valid commands with fixed ids to the commands topic', async (t) => {
  const [button] = configs;
  const quiet = configs[4];
  t.equal(button.config.command_topic, 'bookrec/devices/kitchen/commands');
  t.same(parseCommand(Buffer.from(button.config.payload_press as string)), {
    ok: true,
    command: { id: HA_COMMAND_IDS.recommend, command: 'recommend' },
  });
  t.same(parseCommand(Buffer.from(quiet.config.payload_on as string)), {
    ok: true,
    command: { id: 'ha-quiet-on', command: 'quiet', on: true },
  });
  t.same(parseCommand(Buffer.from(quiet.config.payload_off as string)), {
    ok: true,
    command: { id: 'ha-quiet-off', command: 'quiet', on: false },
  });
  t.equal(quiet.config.state_topic, 'bookrec/devices/kitchen/mode');
});

t.test('node ids: device ids with a dot cannot be one', async (t) => {
  t.ok(isDiscoveryNodeId('kitchen-1_b'));
  t.notOk(isDiscoveryNodeId('kitchen.1'));
});
