import t from 'tap';
import { parseCommand } from '../../../common/protocol/commands.js';
import {
  type DeviceDiscovery,
  deviceDiscovery,
  discoveryTopics,
  HA_COMMAND_IDS,
  isDiscoveryNodeId,
  legacyDiscoveryTopics,
  ownTopicProblems,
  RELEASE_SUMMARY_MAX,
} from '../../../common/protocol/homeAssistant.js';
import { TopicMap } from '../../../common/protocol/topics.js';

/*
 * The documented field names, from Home Assistant's MQTT documentation (home-assistant.io):
 * "MQTT" integration page, sections "MQTT Discovery" (the discovery topic
 * <discovery_prefix>/<component>/[<node_id>/]<object_id>/config; device-based discovery on
 * <discovery_prefix>/device/<object_id>/config with `dev`, `o` and `cmps`, the abbreviations of
 * `device`, `origin` and `components`, each component naming its `platform`; the `device` and `origin`
 * mappings) and the "Configuration Variables" of the platform pages integrations/button.mqtt,
 * integrations/sensor.mqtt, integrations/switch.mqtt and integrations/update.mqtt. Every entity shares
 * the first list; each component adds its own. Full names inside the components.
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
COMPONENT_FIELDS.update = [
  'command_topic',
  'device_class',
  'display_precision',
  'latest_version_template',
  'latest_version_topic',
  'payload_install',
  'release_summary',
  'release_url',
  'retain',
  'state_topic',
  'title',
  'value_template',
];
const REQUIRED: Record<string, string[]> = {
  button: ['command_topic'],
  sensor: ['state_topic'],
  switch: ['command_topic'],
  update: ['state_topic'],
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
const DISCOVERY_TOPIC = /^homeassistant\/(\w+)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;

const topics = new TopicMap();
const input = {
  deviceId: 'kitchen',
  topics,
  agentVersion: '0.1.0',
  channel: 'stable',
  prefix: 'homeassistant',
};
const { topic, config } = deviceDiscovery(input);
const cmps = config.cmps;

t.test('one device-based config, every field name one Home Assistant documents', async (t) => {
  t.equal(topic, 'homeassistant/device/kitchen/config');
  t.match(topic, DISCOVERY_TOPIC);
  t.same(Object.keys(config), ['dev', 'o', 'cmps'], 'device, origin and components, abbreviated');
  t.same(
    Object.keys(config.dev).filter((k) => !DEVICE_FIELDS.includes(k)),
    [],
  );
  t.same(config.dev.identifiers, ['bookrec_kitchen'], 'one device for every entity');
  t.same(
    Object.keys(config.o).filter((k) => !ORIGIN_FIELDS.includes(k)),
    [],
  );
  t.same(
    Object.entries(cmps).map(([id, c]) => [c.platform, id]),
    [
      ['button', 'bookrec_recommend'],
      ['sensor', 'bookrec_model_version'],
      ['sensor', 'bookrec_last_recommendation'],
      ['sensor', 'bookrec_acceptance'],
      ['switch', 'bookrec_quiet'],
      ['update', 'bookrec_model_update'],
    ],
  );
  for (const [id, c] of Object.entries(cmps)) {
    const allowed = new Set([...ENTITY_FIELDS, ...COMPONENT_FIELDS[c.platform]]);
    t.same(
      Object.keys(c).filter((k) => !allowed.has(k)),
      [],
      `${c.platform} ${id}: no undocumented field`,
    );
    for (const k of REQUIRED[c.platform]) t.type(c[k], 'string', `${id}: ${k}`);
    const availability = c.availability as Record<string, unknown>[];
    for (const a of availability)
      t.same(
        Object.keys(a).filter((k) => !AVAILABILITY_FIELDS.includes(k)),
        [],
      );
    t.equal(availability[0].topic, 'bookrec/devices/kitchen/status', 'availability from the status topic');
    t.equal(c.unique_id, `kitchen_${id}`, 'a unique id (the same as the per-entity configs had)');
  }
});

t.test('the old per-entity topics, for clearing once and by fleet forget', async (t) => {
  t.same(legacyDiscoveryTopics('kitchen', 'homeassistant'), [
    'homeassistant/button/kitchen/bookrec_recommend/config',
    'homeassistant/sensor/kitchen/bookrec_model_version/config',
    'homeassistant/sensor/kitchen/bookrec_last_recommendation/config',
    'homeassistant/sensor/kitchen/bookrec_acceptance/config',
    'homeassistant/switch/kitchen/bookrec_quiet/config',
  ]);
  for (const old of legacyDiscoveryTopics('kitchen', 'homeassistant')) t.match(old, DISCOVERY_TOPIC);
  t.same(discoveryTopics('kitchen', 'ha'), [
    'ha/device/kitchen/config',
    ...legacyDiscoveryTopics('kitchen', 'ha'),
  ]);
  t.throws(() => discoveryTopics('kitchen.1', 'ha'), { code: 'CONFIG_INVALID' });
});

t.test('the button and the switch send valid commands with fixed ids to the commands topic', async (t) => {
  const button = cmps.bookrec_recommend;
  const quiet = cmps.bookrec_quiet;
  t.equal(button.command_topic, 'bookrec/devices/kitchen/commands');
  t.same(parseCommand(Buffer.from(button.payload_press as string)), {
    ok: true,
    command: { id: HA_COMMAND_IDS.recommend, command: 'recommend' },
  });
  t.same(parseCommand(Buffer.from(quiet.payload_on as string)), {
    ok: true,
    command: { id: 'ha-quiet-on', command: 'quiet', on: true },
  });
  t.same(parseCommand(Buffer.from(quiet.payload_off as string)), {
    ok: true,
    command: { id: 'ha-quiet-off', command: 'quiet', on: false },
  });
  t.equal(quiet.state_topic, 'bookrec/devices/kitchen/mode');
});

t.test(
  'the model version outlives the last will; the update entity shows installed and latest',
  async (t) => {
    // The will replaces the status (no model in it), never the report: the version is read from there.
    t.equal(cmps.bookrec_model_version.state_topic, 'bookrec/devices/kitchen/report');
    t.equal(cmps.bookrec_model_update.state_topic, 'bookrec/devices/kitchen/report');
    t.equal(cmps.bookrec_model_update.latest_version_topic, 'bookrec/fleet/stable/manifest');
    t.equal(cmps.bookrec_model_update.command_topic, undefined, 'Home Assistant cannot start an install');
    t.equal(cmps.bookrec_last_recommendation.state_topic, 'bookrec/devices/kitchen/recommendations');
  },
);

/** Every string under a key ending in "topic" (also availability's `topic`), anywhere in the config. */
function topicsIn(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return key.endsWith('topic') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((v) => topicsIn(v, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => topicsIn(v, k));
  return [];
}

t.test('issue 21 item 6: the payload names only the device’s own topics', async (t) => {
  for (const [deviceId, prefix] of [
    ['kitchen', 'bookrec'],
    ['dev-a', 'site1/bookrec'],
  ]) {
    const map = new TopicMap(prefix);
    const own = deviceDiscovery({ ...input, deviceId, topics: map });
    const named = topicsIn(own.config);
    t.ok(named.length >= 10, `${deviceId}: ${named.length} topics`);
    for (const n of named) {
      t.ok(
        n.startsWith(`${prefix}/devices/${deviceId}/`) || n === map.manifest('stable'),
        `${deviceId}: ${n} is its own (or the channel's manifest)`,
      );
    }
    t.same(ownTopicProblems(own.config, { deviceId, topics: map, channel: 'stable' }), []);
  }
  // The check catches a config naming another device's topics, in every place a topic can be.
  const forged = structuredClone(config) as DeviceDiscovery['config'];
  forged.cmps.bookrec_recommend.command_topic = 'bookrec/devices/dev-b/commands';
  forged.cmps.bookrec_quiet.command_topic = 'bookrec/devices/kitchen/status';
  forged.cmps.bookrec_acceptance.state_topic = 'bookrec/devices/kitchen/commands';
  forged.cmps.bookrec_model_version.json_attributes_topic = 'bookrec/devices/kitchen/x/y';
  forged.cmps.bookrec_model_update.availability = [{ topic: 'bookrec/devices/dev-b/status' }];
  (forged as unknown as Record<string, unknown>).command_topic = 'bookrec/devices/dev-b/commands';
  t.same(ownTopicProblems(forged, input), [
    'config.command_topic = "bookrec/devices/dev-b/commands"',
    'bookrec_recommend.command_topic = "bookrec/devices/dev-b/commands"',
    'bookrec_model_version.json_attributes_topic = "bookrec/devices/kitchen/x/y"',
    'bookrec_acceptance.state_topic = "bookrec/devices/kitchen/commands"',
    'bookrec_quiet.command_topic = "bookrec/devices/kitchen/status"',
    'bookrec_model_update.availability.topic = "bookrec/devices/dev-b/status"',
  ]);
});

t.test('node ids: device ids with a dot cannot be one', async (t) => {
  t.ok(isDiscoveryNodeId('kitchen-1_b'));
  t.notOk(isDiscoveryNodeId('kitchen.1'));
});

t.test(
  'issue 21 item 15e: the update entity carries the installed release card as its summary',
  async (t) => {
    const card = 'v7: NDCG@10 0.251 (teacher 0.262; 1-4: 0.180), 812 kB, trained 2026-01-02';
    const withCard = deviceDiscovery({ ...input, releaseSummary: card }).config.cmps;
    t.equal(withCard.bookrec_model_update.release_summary, card);
    t.equal(withCard.bookrec_model_version.release_summary, undefined, 'only on the update entity');
    t.equal(cmps.bookrec_model_update.release_summary, undefined, 'no card: no summary key');
    const long = deviceDiscovery({ ...input, releaseSummary: 'x'.repeat(400) }).config.cmps;
    t.equal(
      String(long.bookrec_model_update.release_summary).length,
      RELEASE_SUMMARY_MAX,
      "Home Assistant's limit",
    );
  },
);
