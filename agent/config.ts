import { hostname } from 'node:os';
import { buildConfig, type ConfigSources } from '../common/config.js';
import { BookrecError } from '../common/errors.js';
import type { MqttConnectionSettings } from '../common/mqttSettings.js';
import { isValidName } from '../common/protocol/topics.js';
import { agentSchema, splitList } from './configSchema.js';

export { agentSchema };

/**
 * The one schema of the speaker agent's settings: defaults, validation (every error at once, each naming
 * the key and the bad value), environment variables, flags, `bookrec agent --help` and the TypeScript
 * type all come from here. docs/agent.md lists the keys.
 */
export interface AgentConfig {
  deviceId: string;
  broker: MqttConnectionSettings & {
    timeoutSeconds: number;
    reconnectMinSeconds: number;
    reconnectMaxSeconds: number;
  };
  prefix: string;
  channel: string;
  stateDir: string;
  /** Comma-separated base64 public keys (one string, so the environment and flags can carry it). */
  trustedKeys: string;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  signals: { file: string; pollMs: number; maxLineBytes: number; mqtt: boolean };
  gpio: {
    backend: 'none' | 'fake' | 'onoff' | 'gpiomon' | 'file';
    chip: string;
    linesFile: string;
    sysfsRoot: string;
    recommendPin: number;
    likePin: number;
    skipPin: number;
    activeLow: boolean;
    debounceMs: number;
  };
  tts: { engine: 'espeak-ng' | 'festival' | 'none'; voice: string; rate: number };
  audio: { sink: 'aplay' | 'none'; device: string };
  output: { mode: 'speak' | 'publish' | 'both'; count: number };
  quietHours: { start: string; end: string };
  hermes: { enabled: boolean; intent: string; lang: string };
  history: { maxEvents: number; compactEvery: number };
  outbox: { maxMessages: number };
  /** Online quality counters (agent/qualityCounters.ts). */
  quality: { windowSeconds: number; publishSeconds: number; maxVersions: number; maxPending: number };
}

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
  if (problems.length > 0)
    throw new BookrecError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  return config;
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
