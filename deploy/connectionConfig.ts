import type convict from 'convict';
import {
  type MqttConnectionSettings,
  mqttConnectionSchema,
  topicPrefixSetting,
} from '../common/mqttSettings.js';

/**
 * How deploy's commands reach the broker: the read-only connection (fleet, forget, ask) and the one of
 * the commands that publish, which also makes the broker save to disk. Every deploy command's schema
 * starts from one of these (deploy/config.ts), and so do the dashboard's and the simulator's links.
 */
/** The connection of commands that only read or send commands (fleet, fleet forget, ask). */
export interface ReadConnectionConfig {
  broker: MqttConnectionSettings & {
    clientId: string;
    timeoutSeconds: number;
    quietMs: number;
  };
  prefix: string;
}

/** The connection of commands that publish releases, which the broker must save to disk. */
export interface ConnectionConfig extends ReadConnectionConfig {
  broker: ReadConnectionConfig['broker'] & { autosaveChanges: number };
}

/** Matches autosave_interval in deploy/mosquitto/mosquitto.conf (see DeployLink.persist). */
export const DEFAULT_AUTOSAVE_CHANGES = 100;

export const range =
  (lo: number, hi: number, what: string, integer = false) =>
  (v: unknown) => {
    if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new Error(`must be ${integer ? 'an integer' : 'a number'} ${lo}..${hi} (${what}), got ${v}`);
    }
  };

const readBrokerSchema: convict.Schema<ReadConnectionConfig['broker']> = {
  ...mqttConnectionSchema('MQTT username'),
  clientId: {
    doc: 'MQTT client id (empty: bookrec-deploy-<random>)',
    format: String,
    default: '',
    env: 'BOOKREC_MQTT_CLIENT_ID',
    arg: 'client-id',
  },
  timeoutSeconds: {
    doc: 'Timeout of the connection and of every publish/subscribe',
    format: range(1, 3600, 'seconds'),
    default: 15,
    env: 'BOOKREC_MQTT_TIMEOUT',
    arg: 'timeout-seconds',
  },
  quietMs: {
    doc: 'Reading retained state: done when no message came for this long',
    format: range(50, 60_000, 'ms', true),
    default: 500,
    arg: 'quiet-ms',
  },
};

export const readConnectionSchema: convict.Schema<ReadConnectionConfig> = {
  broker: readBrokerSchema,
  prefix: topicPrefixSetting,
};

/**
 * readConnectionSchema and the broker's autosave: only the commands that publish a manifest make the
 * broker save it (DeployLink.persist), so only their help shows the flag.
 */
export const connectionSchema: convict.Schema<ConnectionConfig> = {
  broker: {
    ...readBrokerSchema,
    autosaveChanges: {
      doc: "The broker's autosave_interval with autosave_on_changes (deploy/mosquitto/mosquitto.conf): after a manifest, deploy makes this many subscription changes so the broker saves its retained state to disk (0: none)",
      format: range(0, 100_000, 'changes', true),
      default: DEFAULT_AUTOSAVE_CHANGES,
      env: 'BOOKREC_AUTOSAVE_CHANGES',
      arg: 'autosave-changes',
    },
  },
  prefix: topicPrefixSetting,
};
