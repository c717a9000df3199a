import { hostname } from 'node:os';
import { buildConfig, type ConfigSources } from '../common/config.js';
import { splitList } from '../common/configFormats.js';
import { BookrecError } from '../common/errors.js';
import { brokerTlsProblem } from '../common/mqttSettings.js';
import { isDiscoveryNodeId } from '../common/protocol/homeAssistant.js';
import { isValidName } from '../common/protocol/topics.js';
import { type AgentConfig, agentSchema } from './configSchema.js';

export { type AgentConfig, agentSchema };

/**
 * The speaker agent's settings: the schema (configSchema.ts) gives defaults, per-key validation,
 * environment variables, flags and the type; this file adds the cross-field rules and helpers.
 */

/** The trusted public keys as a list. */
export function trustedKeyList(config: AgentConfig): string[] {
  return splitList(config.trustedKeys);
}

/** Builds and checks the settings; cross-field rules are checked here, after convict's per-key ones. */
export function agentConfig(sources: ConfigSources = {}): AgentConfig {
  const config = buildConfig(agentSchema, sources);
  const problems: string[] = [];
  const q = config.quietHours;
  if ((q.start === '') !== (q.end === '')) {
    problems.push(
      `quietHours: start ${JSON.stringify(q.start)} and end ${JSON.stringify(q.end)} must be set together`,
    );
  }
  if (config.broker.reconnectMaxSeconds < config.broker.reconnectMinSeconds) {
    problems.push(
      `broker.reconnectMaxSeconds: ${config.broker.reconnectMaxSeconds} is below broker.reconnectMinSeconds ${config.broker.reconnectMinSeconds}`,
    );
  }
  const tls = brokerTlsProblem(config.broker.url, config.broker);
  if (tls) problems.push(`broker.url: ${tls}`);
  if (!isValidName(config.channel))
    problems.push(`channel: ${JSON.stringify(config.channel)} is not a valid channel name`);
  const pins = (['recommendPin', 'likePin', 'skipPin'] as const).filter((k) => config.gpio[k] >= 0);
  const used = new Map<number, string>();
  for (const k of pins) {
    const other = used.get(config.gpio[k]);
    if (other) problems.push(`gpio.${k}: line ${config.gpio[k]} is already gpio.${other}`);
    used.set(config.gpio[k], k);
  }
  if (config.gpio.backend !== 'none' && pins.length === 0) {
    problems.push(
      `gpio.backend: ${JSON.stringify(config.gpio.backend)} needs at least one pin (gpio.recommendPin, ...)`,
    );
  }
  if (config.gpio.backend === 'file' && config.gpio.linesFile === '')
    problems.push('gpio.linesFile: the file backend needs the levels file (--gpio-lines-file)');
  if (config.stateDir === '') problems.push('stateDir: must not be empty');
  // The device id the service will use: checked here so --check-config refuses what start refuses.
  const host = hostname();
  const deviceId = config.deviceId || (isValidName(host) ? host : '');
  const nodeId = config.homeassistant.enabled && deviceId ? homeAssistantIdProblem(deviceId) : undefined;
  if (nodeId) problems.push(nodeId);
  if (problems.length > 0)
    throw new BookrecError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  return config;
}

/** Why `deviceId` cannot be a Home Assistant node id (discovery topics and unique ids are built from it). */
export function homeAssistantIdProblem(deviceId: string): string | undefined {
  if (isDiscoveryNodeId(deviceId)) return undefined;
  return `homeassistant: device id ${JSON.stringify(deviceId)} cannot be a Home Assistant node id (A-Z a-z 0-9 _ - only, no '.'); set --device-id`;
}

/** The device id in use: the configured one, else the host name when that is a valid name. */
export function resolveDeviceId(config: AgentConfig, host: string = hostname()): string {
  if (config.deviceId) return config.deviceId;
  if (isValidName(host)) return host;
  throw new BookrecError(
    'CONFIG_INVALID',
    `deviceId: empty and the host name ${JSON.stringify(host)} is not a valid device id; set BOOKREC_DEVICE_ID`,
  );
}
