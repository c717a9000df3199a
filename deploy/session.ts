import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CommandContext } from '../common/command.js';
import { BookrecError } from '../common/errors.js';
import { rawPublicKey, type TrustedKeys, trustedKeys } from '../common/protocol/signing.js';
import { assertName, TopicMap } from '../common/protocol/topics.js';
import { keyFilePath, type SigningConfig } from './config.js';
import { loadSigningKey } from './keys.js';
import { connectDeploy, type DeployLink } from './link.js';
import type { RetainedOptions } from './retained.js';
import { fileLedger, ledgerFileFor, type VersionLedger } from './versionLedger.js';

/** What a deploy command works with: the link, topics, the signing key and the keys it trusts. */
export interface DeploySession {
  link: DeployLink;
  /** The version numbers published with this key (beside the key file). */
  ledger: VersionLedger;
  topics: TopicMap;
  retained: RetainedOptions;
  key: KeyObject;
  /** The signing key's public half: what rollout and rollback verify the current manifest with. */
  keys: TrustedKeys;
  channel: string;
}

/** Loads the key first (a missing key fails before any network), then connects. */
export async function openSession(config: SigningConfig, ctx: CommandContext): Promise<DeploySession> {
  const topics = new TopicMap(config.prefix);
  const channel = assertName('channel', config.channel);
  const key = await loadSigningKey(keyFilePath(config.keyFile, ctx.env));
  const keys = trustedKeys([rawPublicKey(createPublicKey(key)).toString('base64')]);
  const link = await connectDeploy(config, ctx.log.child('mqtt'));
  const broker = new URL(config.broker.url);
  return {
    link,
    ledger: fileLedger(ledgerFileFor(config.keyFile), `${broker.host}|${config.prefix}`),
    topics,
    retained: { quietMs: config.broker.quietMs, timeoutMs: link.timeoutMs },
    key,
    keys,
    channel,
  };
}

/** Metric name -> number from a JSON file; with `optional`, a missing file is no metrics. */
export async function readMetrics(file: string, optional: boolean): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new BookrecError('CONFIG_FILE', `metrics ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BookrecError('CONFIG_FILE', `metrics ${file}: not JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BookrecError('CONFIG_FILE', `metrics ${file}: not a JSON object`);
  }
  // Only top-level numbers travel: the manifest is small and signed, not a results archive.
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'number' && Number.isFinite(v) && Object.keys(metrics).length < 32) metrics[k] = v;
  }
  return metrics;
}
