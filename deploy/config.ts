import { homedir } from 'node:os';
import { join } from 'node:path';
import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../common/config.js';
import { checkBrokerTls, type MqttConnectionSettings } from '../common/mqttSettings.js';
import { DEFAULT_DISCOVERY_PREFIX } from '../common/protocol/homeAssistant.js';
import { DEFAULT_LIMITS } from '../common/protocol/manifest.js';
import {
  type ConnectionConfig,
  connectionSchema,
  type ReadConnectionConfig,
  range,
  readConnectionSchema,
} from './connectionConfig.js';

/**
 * deploy's settings, in fragments each command puts together, so `bookrec broker --help` lists the
 * broker's two flags and not the signing key or the quality gate. The keys are the same in every
 * command (a config file can serve them all); one schema per command gives defaults, validation,
 * help and type.
 */
/** Commands that sign: the connection, the key and the channel. */
export interface SigningConfig extends ConnectionConfig {
  keyFile: string;
  channel: string;
}

/** How fast releases go out: publish, and rollback's re-publish. */
export interface TransferConfig {
  maxChunksPerSecond: number;
  inFlight: number;
}

export interface PublishConfig extends SigningConfig {
  publish: TransferConfig & {
    chunkSize: number;
    model: string;
    version: number;
    minAgentVersion: string;
    metrics: string;
  };
  rollout: { percent: number };
}

export interface RolloutConfig extends SigningConfig {
  publish: TransferConfig;
  rollout: {
    percent: number;
    maxFailureShare: number;
    minReports: number;
    step: number;
    stepWaitSeconds: number;
    gateMargin: number;
    gateMinRecommendations: number;
    gateAction: 'hold' | 'rollback';
    gateWaitSeconds: number;
    gatePollSeconds: number;
  };
}

export interface RollbackConfig extends SigningConfig {
  publish: TransferConfig;
  rollback: { force: boolean };
}

export interface BrokerConfig {
  embedded: { host: string; port: number };
}

export interface FleetConfig extends ReadConnectionConfig {
  fleet: { watch: boolean; json: boolean; staleHours: number };
}

export interface ForgetConfig extends ReadConnectionConfig {
  forget: { force: boolean; homeassistantPrefix: string };
}

export interface AskConfig extends ReadConnectionConfig {
  ask: { timeoutSeconds: number };
}

export interface KeysConfig {
  keyFile: string;
  keys: { force: boolean };
}

const keyFileSetting: convict.SchemaObj<string> = {
  doc: 'Ed25519 private key (PEM) that signs manifests (empty: deploy-key.pem in $XDG_CONFIG_HOME/bookrec, else ~/.config/bookrec)',
  format: String,
  default: '',
  env: 'BOOKREC_DEPLOY_KEY',
  arg: 'key-file',
};

const signingSchema: convict.Schema<SigningConfig> = {
  ...connectionSchema,
  keyFile: keyFileSetting,
  channel: {
    doc: 'Release channel',
    format: String,
    default: 'stable',
    env: 'BOOKREC_CHANNEL',
    arg: 'channel',
  },
};

const transferSchema: convict.Schema<TransferConfig> = {
  maxChunksPerSecond: {
    doc: 'Publish rate limit (0: none); AWS IoT allows 100 publishes/s per connection',
    format: 'nat',
    default: 0,
    arg: 'max-chunks-per-second',
  },
  inFlight: {
    doc: 'Chunks published and not yet acknowledged at once',
    format: range(1, 64, 'chunks', true),
    default: 8,
    arg: 'in-flight',
  },
};

export const publishSchema: convict.Schema<PublishConfig> = {
  ...signingSchema,
  publish: {
    chunkSize: {
      doc: 'Chunk size in bytes (brokers such as AWS IoT cap messages at 128 KB)',
      format: range(DEFAULT_LIMITS.minChunkSize, DEFAULT_LIMITS.maxChunkSize, 'bytes', true),
      default: 64 * 1024,
      arg: 'chunk-size',
    },
    model: { doc: 'Model id (empty: the package folder name)', format: String, default: '', arg: 'model' },
    version: {
      doc: 'Model version to publish (0: the channel current version + 1)',
      format: 'nat',
      default: 0,
      arg: 'model-version',
    },
    minAgentVersion: {
      doc: 'Oldest agent version (x.y.z) that can run the model',
      format: String,
      default: '0.1.0',
      arg: 'min-agent-version',
    },
    metrics: {
      doc: 'JSON file of metric name -> number carried in the manifest (empty: PACKAGE/metrics.json if present)',
      format: String,
      default: '',
      arg: 'metrics',
    },
    ...transferSchema,
  },
  rollout: {
    percent: {
      doc: 'Share of the channel devices that install the release',
      format: range(0, 100, 'percent'),
      default: 100,
      arg: 'percent',
    },
  },
};

export const rolloutSchema: convict.Schema<RolloutConfig> = {
  ...signingSchema,
  publish: transferSchema,
  rollout: {
    percent: {
      doc: 'Share of the channel devices that install the release',
      format: (v: unknown) => {
        if (v !== -1) range(0, 100, 'percent')(v);
      },
      // -1: not given (the command refuses to guess a share).
      default: -1,
      required: true,
      arg: 'percent',
    },
    maxFailureShare: {
      doc: 'Refuse to widen when this share (0..1) of devices reporting on the release failed (1: no rule)',
      format: range(0, 1, 'share'),
      default: 1,
      arg: 'max-failure-share',
    },
    minReports: {
      doc: 'Reports needed before the failure share is judged; with fewer, any failure stops',
      format: 'nat',
      default: 5,
      arg: 'min-reports',
    },
    step: {
      doc: 'Widen in steps of this many percent (0: at once)',
      format: range(0, 100, 'percent'),
      default: 0,
      arg: 'step',
    },
    stepWaitSeconds: {
      doc: 'Wait between steps, then check the failure share again',
      format: range(0, 86_400, 'seconds'),
      default: 300,
      arg: 'step-wait-seconds',
    },
    gateMargin: {
      doc: 'Quality gate: stop widening when the release acceptance rate is below the rest of the channel by more than this (0..1, e.g. 0.02; -1: no gate)',
      format: (v: unknown) => {
        if (v !== -1) range(0, 1, 'acceptance-rate margin')(v);
      },
      default: -1,
      arg: 'gate-margin',
    },
    gateMinRecommendations: {
      doc: 'Quality gate: recommendations needed on each side (the release, the rest) before judging',
      format: 'nat',
      default: 100,
      arg: 'gate-min-recommendations',
    },
    gateAction: {
      doc: 'Quality gate: on a worse release keep its percent (hold) or roll the channel back (rollback)',
      format: ['hold', 'rollback'],
      default: 'hold',
      arg: 'gate-action',
    },
    gateWaitSeconds: {
      doc: 'Quality gate: longest wait for enough data before a widening step, then stop',
      format: range(0, 7 * 86_400, 'seconds'),
      default: 3600,
      arg: 'gate-wait-seconds',
    },
    gatePollSeconds: {
      doc: 'Quality gate: while waiting for data, read the counters again this often',
      format: range(0.05, 3600, 'seconds'),
      default: 30,
      arg: 'gate-poll-seconds',
    },
  },
};

export const rollbackSchema: convict.Schema<RollbackConfig> = {
  ...signingSchema,
  publish: transferSchema,
  rollback: {
    force: {
      doc: 'Roll back even to a release devices failed to install or refused',
      format: BOOLEAN,
      default: false,
      arg: 'force',
    },
  },
};

export const brokerSchema: convict.Schema<BrokerConfig> = {
  embedded: {
    host: { doc: 'Address to listen on', format: String, default: '127.0.0.1', arg: 'host' },
    port: { doc: 'Port to listen on (0: any free port)', format: 'port', default: 1883, arg: 'port' },
  },
};

export const fleetSchema: convict.Schema<FleetConfig> = {
  ...readConnectionSchema,
  fleet: {
    watch: {
      doc: 'Keep the table live: redrawn in place on a terminal, one line per change when piped',
      format: BOOLEAN,
      default: false,
      arg: 'watch',
    },
    json: {
      doc: 'Print JSON (one document; with --watch, one JSON line per change) instead of tables',
      format: BOOLEAN,
      default: false,
      arg: 'json',
    },
    staleHours: {
      doc: 'Mark devices not heard from for this many hours as stale (bookrec fleet forget removes them)',
      format: range(0.01, 24 * 365, 'hours'),
      default: 24,
      arg: 'stale-hours',
    },
  },
};

export const forgetSchema: convict.Schema<ForgetConfig> = {
  ...readConnectionSchema,
  forget: {
    force: {
      doc: 'Clear the device even though its status says online',
      format: BOOLEAN,
      default: false,
      arg: 'force',
    },
    homeassistantPrefix: {
      doc: "Home Assistant's discovery prefix the device announced under",
      format: String,
      default: DEFAULT_DISCOVERY_PREFIX,
      arg: 'homeassistant-prefix',
    },
  },
};

export const askSchema: convict.Schema<AskConfig> = {
  ...readConnectionSchema,
  ask: {
    timeoutSeconds: {
      doc: 'How long to wait for the reply',
      format: range(0.1, 3600, 'seconds'),
      default: 10,
      arg: 'wait-seconds',
    },
  },
};

export const keysSchema: convict.Schema<KeysConfig> = {
  keyFile: keyFileSetting,
  keys: {
    force: { doc: 'Overwrite an existing key file', format: BOOLEAN, default: false, arg: 'force' },
  },
};

/**
 * The signing key's file: the setting, or deploy-key.pem in the user's config folder, never the working
 * tree (a key in a checkout is one `git add .` away from being published).
 */
export function keyFilePath(keyFile: string, env: NodeJS.ProcessEnv): string {
  if (keyFile) return keyFile;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'bookrec', 'deploy-key.pem');
}

/** Every deploy command's schema: one config file may serve them all. */
const DEPLOY_SCHEMAS: object[] = [
  publishSchema,
  rolloutSchema,
  rollbackSchema,
  fleetSchema,
  forgetSchema,
  askSchema,
  keysSchema,
  brokerSchema,
];

/** A deploy command's settings; its config file may also hold the other deploy commands' keys. */
export function deployConfig<T>(schema: convict.Schema<T>, sources: ConfigSources): T {
  const config = buildConfig(schema, { ...sources, siblings: DEPLOY_SCHEMAS });
  const broker = (config as { broker?: MqttConnectionSettings }).broker;
  if (broker) checkBrokerTls(broker.url, broker);
  return config;
}
