import type convict from 'convict';
import { BOOLEAN, buildConfig, type ConfigSources } from '../common/config.js';
import {
  type MqttConnectionSettings,
  mqttConnectionSchema,
  topicPrefixSetting,
} from '../common/mqttSettings.js';
import { DEFAULT_LIMITS } from '../common/protocol/manifest.js';

/** The one schema of deploy's settings: defaults, validation, docs (--help) and type. */
export interface DeployConfig {
  broker: MqttConnectionSettings & {
    clientId: string;
    timeoutSeconds: number;
    quietMs: number;
    autosaveChanges: number;
  };
  prefix: string;
  keyFile: string;
  channel: string;
  publish: {
    chunkSize: number;
    model: string;
    version: number;
    minAgentVersion: string;
    metrics: string;
    maxChunksPerSecond: number;
    inFlight: number;
  };
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
  fleet: { watch: boolean };
  embedded: { host: string; port: number };
  /** keys: overwrite a key file; rollback: go back to a release devices failed to install. */
  force: boolean;
}

const range =
  (lo: number, hi: number, what: string, integer = false) =>
  (v: unknown) => {
    if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new Error(`must be ${integer ? 'an integer' : 'a number'} ${lo}..${hi} (${what}), got ${v}`);
    }
  };

export const deploySchema: convict.Schema<DeployConfig> = {
  broker: {
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
    autosaveChanges: {
      doc: "The broker's autosave_interval with autosave_on_changes (deploy/mosquitto/mosquitto.conf): after a manifest, deploy makes this many subscription changes so the broker saves its retained state to disk (0: none)",
      format: range(0, 100_000, 'changes', true),
      default: 100,
      env: 'BOOKREC_AUTOSAVE_CHANGES',
      arg: 'autosave-changes',
    },
  },
  prefix: topicPrefixSetting,
  keyFile: {
    doc: 'Ed25519 private key (PEM) that signs manifests',
    format: String,
    default: 'deploy-key.pem',
    env: 'BOOKREC_DEPLOY_KEY',
    arg: 'key-file',
  },
  channel: {
    doc: 'Release channel',
    format: String,
    default: 'stable',
    env: 'BOOKREC_CHANNEL',
    arg: 'channel',
  },
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
  },
  rollout: {
    percent: {
      doc: 'Share of the channel devices that install the release (publish: default 100; rollout: required)',
      format: (v: unknown) => {
        if (v !== -1) range(0, 100, 'percent')(v);
      },
      default: -1,
      arg: 'percent',
    },
    maxFailureShare: {
      doc: 'rollout: refuse to widen when this share (0..1) of devices reporting on the release failed (1: no rule)',
      format: range(0, 1, 'share'),
      default: 1,
      arg: 'max-failure-share',
    },
    minReports: {
      doc: 'rollout: reports needed before the failure share is judged',
      format: 'nat',
      default: 5,
      arg: 'min-reports',
    },
    step: {
      doc: 'rollout: widen in steps of this many percent (0: at once)',
      format: range(0, 100, 'percent'),
      default: 0,
      arg: 'step',
    },
    stepWaitSeconds: {
      doc: 'rollout: wait between steps, then check the failure share again',
      format: range(0, 86_400, 'seconds'),
      default: 300,
      arg: 'step-wait-seconds',
    },
    gateMargin: {
      doc: 'rollout: quality gate: stop widening when the release acceptance rate is below the rest of the channel by more than this (0..1, e.g. 0.02; -1: no gate)',
      format: (v: unknown) => {
        if (v !== -1) range(0, 1, 'acceptance-rate margin')(v);
      },
      default: -1,
      arg: 'gate-margin',
    },
    gateMinRecommendations: {
      doc: 'rollout: quality gate: recommendations needed on each side (the release, the rest) before judging',
      format: 'nat',
      default: 100,
      arg: 'gate-min-recommendations',
    },
    gateAction: {
      doc: 'rollout: quality gate: on a worse release keep its percent (hold) or roll the channel back (rollback)',
      format: ['hold', 'rollback'],
      default: 'hold',
      arg: 'gate-action',
    },
    gateWaitSeconds: {
      doc: 'rollout: quality gate: longest wait for enough data before a widening step, then stop',
      format: range(0, 7 * 86_400, 'seconds'),
      default: 3600,
      arg: 'gate-wait-seconds',
    },
    gatePollSeconds: {
      doc: 'rollout: quality gate: while waiting for data, read the counters again this often',
      format: range(0.05, 3600, 'seconds'),
      default: 30,
      arg: 'gate-poll-seconds',
    },
  },
  fleet: {
    watch: {
      doc: 'fleet: keep the table live instead of one snapshot',
      format: BOOLEAN,
      default: false,
      arg: 'watch',
    },
  },
  embedded: {
    host: { doc: 'broker: address to listen on', format: String, default: '127.0.0.1', arg: 'host' },
    port: { doc: 'broker: port to listen on (0: any free port)', format: 'port', default: 1883, arg: 'port' },
  },
  force: {
    doc: 'keys: overwrite an existing key file; rollback: roll back even to a release devices failed to install',
    format: BOOLEAN,
    default: false,
    arg: 'force',
  },
};

export function deployConfig(sources: ConfigSources): DeployConfig {
  return buildConfig(deploySchema, sources);
}
