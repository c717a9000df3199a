import convict from 'convict';
import { BookrecError } from './errors.js';
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
      doc: 'MQTT broker URL: mqtt://host:port, mqtts:// (TLS), ws://, wss:// (TLS)',
      format: BROKER_URL,
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

/** The schemes a broker URL may have; mqtt.js quietly falls back to plain TCP for any other. */
export const BROKER_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;

/** Schemes people type for TLS or plain TCP, and what they meant. */
const MEANT: Record<string, string> = {
  mqtss: 'mqtts',
  'mqtt+tls': 'mqtts',
  'mqtt+ssl': 'mqtts',
  'mqtts+tls': 'mqtts',
  tls: 'mqtts',
  ssl: 'mqtts',
  https: 'mqtts',
  tcp: 'mqtt',
  'mqtt+tcp': 'mqtt',
  http: 'mqtt',
  mqqt: 'mqtt',
  mtqq: 'mqtt',
};

/**
 * Why `text` is not a usable broker URL, with the fix; undefined when it is one. Only mqtt, mqtts, ws and
 * wss are accepted: mqtt.js connects with plain TCP for a scheme it does not know, so `mqtss://` sent the
 * password in clear text. The text never contains the URL's password.
 */
export function brokerUrlProblem(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.trim() === '')
    return 'a broker URL is required, e.g. mqtts://broker.example:8883';
  const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (hostPort) {
    return `${JSON.stringify(text)} has no scheme: did you mean mqtt://${text.trim()} (or mqtts://${text.trim()} for TLS)?`;
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    const host = /^[A-Za-z0-9.-]+$/.test(text.trim()) ? text.trim() : undefined;
    return host
      ? `${JSON.stringify(text)} has no scheme: did you mean mqtts://${host}:8883 (or mqtt://${host}:1883)?`
      : 'is not a URL: a broker URL looks like mqtts://broker.example:8883';
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!(BROKER_SCHEMES as readonly string[]).includes(scheme)) {
    const meant = MEANT[scheme];
    // Host, port and path only: never the user:password part.
    const shown = `//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    const fix = meant
      ? `did you mean ${meant}:${shown}?`
      : `use mqtts:// (TLS) or mqtt:// (plain TCP), e.g. mqtts:${shown}`;
    return `scheme ${scheme}:// is not one of ${BROKER_SCHEMES.map((s) => `${s}://`).join(', ')}: ${fix}`;
  }
  if (url.hostname === '') return `${scheme}:// with no host, e.g. ${scheme}://broker.example`;
  return undefined;
}

/**
 * The broker URL, checked: a CONFIG_INVALID BookrecError with the fix otherwise. Every connection goes
 * through this, also ones whose URL did not come from a settings schema.
 */
export function checkBrokerUrl(text: string, what = 'broker URL'): URL {
  const problem = brokerUrlProblem(text);
  if (problem) throw new BookrecError('CONFIG_INVALID', `${what}: ${problem}`);
  return new URL(text.trim());
}

/** The TLS files of a connection: a path in the settings, the bytes when connecting. */
export interface TlsMaterial {
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
}

/**
 * Why TLS files with this URL are a mistake: with a plain scheme (mqtt://, ws://) the CA, certificate and
 * key are never used and the password and every message go in clear, while the operator believes the
 * link is encrypted. Undefined when the URL is a TLS one or no TLS file is set. Names the fix.
 */
export function brokerTlsProblem(url: string, tls: TlsMaterial): string | undefined {
  const given = (['ca', 'cert', 'key'] as const).filter((k) => {
    const v = tls[k];
    return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
  });
  if (given.length === 0) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const secure = scheme === 'mqtt' ? 'mqtts' : scheme === 'ws' ? 'wss' : undefined;
  if (!secure) return undefined;
  const port = scheme === 'mqtt' && (parsed.port === '' || parsed.port === '1883') ? '8883' : parsed.port;
  // URL keeps an IPv6 host in its brackets.
  const host = parsed.hostname;
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  const flags = given.map((k) => TLS_FLAGS[k]).join(', ');
  return `${scheme}:// is not TLS, but ${flags} ${given.length > 1 ? 'are' : 'is'} set: the password and every message would go in clear; use ${secure}://${host}${port ? `:${port}` : ''}${path}`;
}

const TLS_FLAGS = { ca: 'broker.ca (--ca)', cert: 'broker.cert (--cert)', key: 'broker.key (--client-key)' };

/** brokerTlsProblem as a CONFIG_INVALID BookrecError; every connection goes through it. */
export function checkBrokerTls(url: string, tls: TlsMaterial): void {
  const problem = brokerTlsProblem(url, tls);
  if (problem) throw new BookrecError('CONFIG_INVALID', `broker.url: ${problem}`);
}

/** The error of a bad URL setting, without convict's "value was ...": a URL may hold a password. */
class UrlSettingError extends Error {
  get value(): undefined {
    return undefined;
  }
  set value(_ignored: unknown) {
    // convict attaches the raw value to append it to the message; a URL's password must not be.
  }
}

/** The format of every broker URL setting: `format: BROKER_URL`. */
export const BROKER_URL = 'bookrec-broker-url';
convict.addFormat({
  name: BROKER_URL,
  validate(value: unknown) {
    const problem = brokerUrlProblem(value);
    if (problem) throw new UrlSettingError(problem);
  },
});

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
