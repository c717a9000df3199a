import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { buildConfig } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { DEFAULT_LIMITS, type SignedManifest } from '../common/protocol/manifest.js';
import {
  generateSigningKey,
  loadPrivateKey,
  rawPublicKey,
  type TrustedKeys,
  trustedKeys,
} from '../common/protocol/signing.js';
import { TopicMap } from '../common/protocol/topics.js';
import type { RolloutContext } from '../deploy/channelState.js';
import { connectionSchema } from '../deploy/connectionConfig.js';
import { type QualityView, qualitySnapshot } from '../deploy/fleetQuality.js';
import { connectDeploy, type DeployLink } from '../deploy/link.js';
import { readPackage } from '../deploy/packageFiles.js';
import { type PublishContext, publishRelease } from '../deploy/publisher.js';
import { readRetained } from '../deploy/retained.js';
import { rollback } from '../deploy/rollback.js';
import { changeRollout } from '../deploy/rollout.js';
import type { GateOptions } from '../deploy/rolloutGate.js';

/**
 * The operator's side, with deploy's own functions (the code behind `bookrec publish`, `rollout` and
 * `rollback`) on one connection and a signing key made for this run (the devices trust only it).
 */
export interface SimDeployerOptions {
  url: string;
  prefix: string;
  channel: string;
  log: Logger;
  /** argv for deploy's settings beyond the broker (e.g. --username deploy); env for the password. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  chunkSize?: number;
  /** The signing key (PKCS#8 PEM) when the caller needs it too (e.g. a `bookrec publish` child); default: a fresh one. */
  signingKeyPem?: string;
  /** Rollout salt of every release it publishes (ReleaseRequest.salt); default: a random one each. */
  rolloutSalt?: string;
}

export class SimDeployer {
  readonly publicKey: string;
  readonly ctx: PublishContext & RolloutContext;
  readonly link: DeployLink;
  private readonly key: KeyObject;
  private readonly options: SimDeployerOptions;

  private constructor(options: SimDeployerOptions, link: DeployLink, key: KeyObject, publicKey: string) {
    this.options = options;
    this.link = link;
    this.key = key;
    this.publicKey = publicKey;
    const keys: TrustedKeys = trustedKeys([publicKey]);
    this.ctx = {
      transport: link,
      topics: new TopicMap(options.prefix),
      log: options.log,
      retained: { quietMs: link.quietMs, timeoutMs: link.timeoutMs },
      inFlight: 8,
      maxChunksPerSecond: 0,
      keys,
      persist: () => link.persist(),
    };
  }

  static async connect(options: SimDeployerOptions): Promise<SimDeployer> {
    const config = buildConfig(connectionSchema, {
      env: options.env ?? {},
      argv: [
        '--broker',
        options.url,
        '--prefix',
        options.prefix,
        '--quiet-ms',
        '100',
        ...(options.argv ?? []),
      ],
    });
    const link = await connectDeploy(config, options.log.child('mqtt'));
    const key = options.signingKeyPem
      ? loadPrivateKey(options.signingKeyPem)
      : createPrivateKey(generateSigningKey().privateKeyPem);
    const publicKey = rawPublicKey(createPublicKey(key)).toString('base64');
    return new SimDeployer(options, link, key, publicKey);
  }

  /** Signs and publishes a package folder as the channel's next version, to `percent` of devices. */
  async publish(dir: string, model: string, percent: number): Promise<SignedManifest> {
    const files = await readPackage(dir, this.options.chunkSize ?? 64 * 1024, DEFAULT_LIMITS);
    return publishRelease(
      this.ctx,
      {
        channel: this.options.channel,
        model,
        version: 0,
        minAgentVersion: '0.1.0',
        metrics: {},
        percent,
        files,
        salt: this.options.rolloutSalt,
      },
      this.key,
    );
  }

  /**
   * Re-signs the current release with a wider (or narrower) rollout percent, same salt: deploy's
   * changeRollout, the code of `bookrec rollout`, with its quality gate when one is given (a "stop" or
   * a "hold" at the end of the gate's wait throws deploy's GateError, carrying the decision).
   */
  widen(percent: number, gate?: GateOptions): Promise<SignedManifest> {
    return changeRollout(
      this.ctx,
      {
        channel: this.options.channel,
        percent,
        maxFailureShare: 1,
        minReports: 0,
        step: 0,
        stepWaitMs: 0,
        gate,
      },
      this.key,
    );
  }

  /** Every device's retained quality counters, as deploy reads them for the gate and `bookrec fleet`. */
  quality(): Promise<QualityView> {
    return qualitySnapshot(this.ctx);
  }

  /** A signed rollback manifest: the previous release to every device. */
  rollback(): Promise<SignedManifest> {
    return rollback(this.ctx, this.options.channel, this.key);
  }

  /** The retained messages of one device topic kind across the fleet (status, counters, ...). */
  async retained(kind: Parameters<TopicMap['allDevices']>[0]): Promise<Map<string, Buffer>> {
    return readRetained(this.link, this.ctx.topics.allDevices(kind), this.ctx.retained);
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}
