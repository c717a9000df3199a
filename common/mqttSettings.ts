import type convict from 'convict';
import { DEFAULT_TOPIC_PREFIX } from './protocol/topics.js';

/**
 * The broker connection settings the agent and deploy share: one place for their keys, environment
 * variables and flags, so a device and the deploy side are configured with the same words. Each
 * side adds its own keys (the agent's reconnect backoff, deploy's client id and quiet period).
 */
export interface MqttConnectionSettings {
  url: string;
  username: string;
  password: string;
  ca: string;
  cert: string;
  key: string;
  mqttVersion: '3.1.1' | '5';
}

export function mqttConnectionSchema(usernameDoc: string): convict.Schema<MqttConnectionSettings> {
  return {
    url: {
      doc: 'MQTT broker URL (mqtt://, mqtts:// for TLS)',
      format: String,
      default: 'mqtt://127.0.0.1:1883',
      env: 'BOOKREC_BROKER_URL',
      arg: 'broker',
    },
    username: {
      doc: usernameDoc,
      format: String,
      default: '',
      env: 'BOOKREC_MQTT_USERNAME',
      arg: 'username',
    },
    password: {
      doc: 'MQTT password (prefer the environment or a config file: flags show in ps)',
      format: String,
      default: '',
      sensitive: true,
      env: 'BOOKREC_MQTT_PASSWORD',
      arg: 'password',
    },
    ca: {
      doc: 'CA certificate file (PEM) for TLS',
      format: String,
      default: '',
      env: 'BOOKREC_MQTT_CA',
      arg: 'ca',
    },
    cert: {
      doc: 'Client certificate file (PEM) for TLS client authentication',
      format: String,
      default: '',
      env: 'BOOKREC_MQTT_CERT',
      arg: 'cert',
    },
    key: {
      doc: 'Client certificate key file (PEM)',
      format: String,
      default: '',
      env: 'BOOKREC_MQTT_KEY',
      arg: 'client-key',
    },
    mqttVersion: {
      doc: 'MQTT protocol version (aedes speaks 3.1.1 only)',
      format: ['3.1.1', '5'],
      default: '3.1.1',
      env: 'BOOKREC_MQTT_VERSION',
      arg: 'mqtt-version',
    },
  };
}

/** The topic prefix setting, the same key, variable and flag for the agent and deploy. */
export const topicPrefixSetting: convict.SchemaObj<string> = {
  doc: 'Topic prefix',
  format: String,
  default: DEFAULT_TOPIC_PREFIX,
  env: 'BOOKREC_TOPIC_PREFIX',
  arg: 'prefix',
};

/** The broker URL without any user:password part, for logs and errors. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
