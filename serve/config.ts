import { hostname } from 'node:os';
import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../common/config.js';
import { publicKeyList, splitList } from '../common/configFormats.js';
import { BookrecError } from '../common/errors.js';
import {
  brokerTlsProblem,
  type MqttConnectionSettings,
  mqttConnectionSchema,
  topicPrefixSetting,
} from '../common/mqttSettings.js';
import { isValidName } from '../common/protocol/topics.js';
import { isLoopback } from './hostCheck.js';
import { MAKE_TOKEN, tokenWeakness } from './operatorToken.js';

/**
 * The one schema of `bookrec serve`'s settings: where the model comes from (a package folder, or a
 * release channel followed like a device), the HTTP limits that keep the service up under bad input, and
 * the fleet dashboard. Defaults, validation, environment variables, flags, --help and the type come from
 * here; docs/serve.md lists them.
 */
export interface ServeConfig {
  host: string;
  port: number;
  /** Comma-separated host names answered besides IP addresses and localhost (hostCheck.ts). */
  allowedHosts: string;
  /** A package folder to serve (empty: follow --channel). */
  package: string;
  /** The signed release manifest of that folder, for the phone page to verify (optional). */
  manifest: string;
  /** Release channel to follow over MQTT like a device (empty: serve --package). */
  channel: string;
  /** Comma-separated base64 Ed25519 public keys releases must be signed with. */
  trustedKeys: string;
  /** The id this server's rollout bucket is computed from (empty: serve-<host name>). */
  deviceId: string;
  prefix: string;
  broker: MqttConnectionSettings & { clientId: string; timeoutSeconds: number; quietMs: number };
  http: {
    bodyLimitBytes: number;
    maxHistory: number;
    maxCount: number;
    maxExclude: number;
    requestTimeoutMs: number;
    maxConnections: number;
  };
  /** Where the built pages are (npm run web); empty: dist/web beside this file. */
  webDir: string;
  fleet: { enabled: boolean; token: string; keyFile: string; maxClients: number };
}

const int =
  (lo: number, hi: number, what: string) =>
  (v: unknown): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`must be an integer ${lo}..${hi} (${what}), got ${JSON.stringify(v)}`);
    }
  };

export const serveSchema: convict.Schema<ServeConfig> = {
  host: {
    doc: 'Address to listen on',
    format: String,
    default: '127.0.0.1',
    env: 'BOOKREC_SERVE_HOST',
    arg: 'host',
  },
  port: {
    doc: 'Port to listen on (0: any free port)',
    format: int(0, 65535, 'TCP port'),
    default: 8080,
    env: 'BOOKREC_SERVE_PORT',
    arg: 'port',
  },
  allowedHosts: {
    doc: 'Comma-separated host names this server answers to besides IP addresses and localhost (a request for any other name is refused: DNS rebinding)',
    format: String,
    default: '',
    env: 'BOOKREC_SERVE_ALLOWED_HOSTS',
    arg: 'allowed-hosts',
  },
  package: {
    doc: 'Model package folder to serve (or follow --channel)',
    format: String,
    default: '',
    env: 'BOOKREC_SERVE_PACKAGE',
    arg: 'package',
  },
  manifest: {
    doc: "The package's signed release manifest (JSON), so the phone page can verify it",
    format: String,
    default: '',
    env: 'BOOKREC_SERVE_MANIFEST',
    arg: 'manifest',
  },
  channel: {
    doc: 'Release channel to follow over MQTT like a device (or serve --package)',
    format: String,
    default: '',
    env: 'BOOKREC_CHANNEL',
    arg: 'channel',
  },
  trustedKeys: {
    doc: 'Comma-separated base64 Ed25519 public keys releases must be signed with',
    format: publicKeyList,
    default: '',
    env: 'BOOKREC_TRUSTED_KEYS',
    arg: 'trusted-keys',
  },
  deviceId: {
    doc: "Id this server's rollout bucket is computed from (empty: serve-<host name>)",
    format: String,
    default: '',
    env: 'BOOKREC_DEVICE_ID',
    arg: 'device-id',
  },
  prefix: topicPrefixSetting,
  broker: {
    ...mqttConnectionSchema('MQTT username'),
    clientId: {
      doc: 'MQTT client id (empty: bookrec-serve-<random>)',
      format: String,
      default: '',
      env: 'BOOKREC_MQTT_CLIENT_ID',
      arg: 'client-id',
    },
    timeoutSeconds: {
      doc: 'Timeout of the connection and of every publish/subscribe',
      format: int(1, 600, 'seconds'),
      default: 10,
      env: 'BOOKREC_MQTT_TIMEOUT',
      arg: 'timeout-seconds',
    },
    quietMs: {
      doc: 'Reading retained state (dashboard actions): done when no message came for this long',
      format: int(50, 60_000, 'ms'),
      default: 500,
      arg: 'quiet-ms',
    },
  },
  http: {
    bodyLimitBytes: {
      doc: 'Largest request body read; a larger one is refused (413) before it is parsed',
      format: int(1024, 64 * 1024 * 1024, 'bytes'),
      default: 256 * 1024,
      env: 'BOOKREC_SERVE_BODY_LIMIT',
      arg: 'body-limit',
    },
    maxHistory: {
      doc: 'Most history events one request may carry',
      format: int(1, 1_000_000, 'events'),
      default: 2000,
      arg: 'max-history',
    },
    maxCount: {
      doc: 'Most books one answer may ask for',
      format: int(1, 1000, 'books'),
      default: 50,
      arg: 'max-count',
    },
    maxExclude: {
      doc: 'Most book ids one request may exclude',
      format: int(0, 100_000, 'ids'),
      default: 1000,
      arg: 'max-exclude',
    },
    requestTimeoutMs: {
      doc: 'A client must send its whole request within this time (slow clients get 408)',
      format: int(100, 600_000, 'ms'),
      default: 10_000,
      arg: 'request-timeout-ms',
    },
    maxConnections: {
      doc: 'Open connections at most; more are refused by the socket',
      format: int(1, 1_000_000, 'connections'),
      default: 2048,
      arg: 'max-connections',
    },
  },
  webDir: {
    doc: 'Folder of the built pages (npm run web; empty: dist/web of this installation)',
    format: String,
    default: '',
    arg: 'web-dir',
  },
  fleet: {
    enabled: {
      doc: 'Serve the live fleet dashboard at /fleet/ (reads retained device topics)',
      format: BOOLEAN,
      default: false,
      env: 'BOOKREC_SERVE_FLEET',
      arg: 'fleet',
    },
    token: {
      doc: 'Bearer token (32+ random characters: openssl rand -hex 32) that rollout, rollback and forget need, and reading the fleet off loopback (empty: read-only, loopback only)',
      format: String,
      default: '',
      sensitive: true,
      env: 'BOOKREC_FLEET_TOKEN',
    },
    keyFile: {
      doc: 'Ed25519 private key (PEM) that signs rollout and rollback manifests from the dashboard',
      format: String,
      default: '',
      env: 'BOOKREC_DEPLOY_KEY',
      arg: 'key-file',
    },
    maxClients: {
      doc: 'Dashboard pages connected at once (server-sent events)',
      format: int(1, 10_000, 'clients'),
      default: 64,
      arg: 'fleet-max-clients',
    },
  },
};

/** Builds and checks the settings; what a model source and the dashboard need is checked together. */
export function serveConfig(sources: ConfigSources = {}): ServeConfig {
  const config = buildConfig(serveSchema, sources);
  const problems: string[] = [];
  if (config.package && config.channel) {
    problems.push(
      'package and channel: give one model source, a folder (--package) or a channel (--channel)',
    );
  }
  if (!config.package && !config.channel && !config.fleet.enabled) {
    problems.push('nothing to serve: give --package DIR, --channel NAME, or --fleet');
  }
  if (config.channel && !isValidName(config.channel)) {
    problems.push(`channel: ${JSON.stringify(config.channel)} is not a valid channel name`);
  }
  if ((config.channel || config.manifest) && splitList(config.trustedKeys).length === 0) {
    problems.push('trustedKeys: following a channel or verifying --manifest needs --trusted-keys');
  }
  const tls = brokerTlsProblem(config.broker.url, config.broker);
  if (tls) problems.push(`broker.url: ${tls}`);
  if (config.manifest && !config.package) problems.push('manifest: --manifest belongs to --package');
  if (config.deviceId && !isValidName(config.deviceId)) {
    problems.push(`deviceId: ${JSON.stringify(config.deviceId)} is not a valid device id`);
  }
  problems.push(...fleetAccessProblems(config));
  if (problems.length > 0) {
    throw new BookrecError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  return config;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** The token's strength, and what listening beyond loopback needs; the host names' form. */
function fleetAccessProblems(config: ServeConfig): string[] {
  const problems: string[] = [];
  for (const name of splitList(config.allowedHosts)) {
    if (!HOST_NAME.test(name)) {
      problems.push(
        `allowedHosts: ${JSON.stringify(name)} is not a host name (give names like bookrec.example.net)`,
      );
    }
  }
  const weak = config.fleet.token ? tokenWeakness(config.fleet.token) : undefined;
  if (weak) problems.push(`fleet.token: ${weak}`);
  if (config.fleet.enabled && !config.fleet.token && !isLoopback(config.host)) {
    problems.push(
      `fleet.token: the dashboard listening on ${config.host} (beyond loopback) needs BOOKREC_FLEET_TOKEN, ` +
        `or anyone on the network reads the fleet: BOOKREC_FLEET_TOKEN=$(${MAKE_TOKEN})`,
    );
  }
  return problems;
}

/** The id used for the rollout bucket: the configured one, else serve-<host name> made a valid name. */
export function serveDeviceId(config: ServeConfig, host: string = hostname()): string {
  if (config.deviceId) return config.deviceId;
  const id = `serve-${host.replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
  return isValidName(id) ? id : 'serve';
}
