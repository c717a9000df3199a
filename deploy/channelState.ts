import { BookrecError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type SignedManifest, validateManifest } from '../common/protocol/manifest.js';
import { checkManifest } from '../common/protocol/manifestCheck.js';
import type { TrustedKeys } from '../common/protocol/signing.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { MessageTransport, PublishTransport } from '../common/protocol/transport.js';
import type { FailureJudgement } from './failureRule.js';
import type { GateDecision } from './qualityGate.js';
import { type RetainedOptions, readRetained } from './retained.js';

/** What the broker holds for one channel: its current manifest and the release records beside the chunks. */
export interface ChannelState {
  /** The current manifest when it is there and well-formed (not yet verified: see verifiedCurrent). */
  current: SignedManifest | undefined;
  /** The current manifest's raw payload, for verification. */
  currentPayload: Buffer | undefined;
  /** Release records by version. */
  records: Map<number, SignedManifest>;
}

export interface ChannelContext {
  transport: MessageTransport;
  topics: TopicMap;
  retained: RetainedOptions;
}

/** What rollout, its quality gate and rollback work with: a channel's broker view plus signing keys. */
export interface RolloutContext extends ChannelContext {
  transport: ChannelContext['transport'] & PublishTransport;
  log: Logger;
  keys: TrustedKeys;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Told of every quality-gate decision (the command prints them). */
  onGate?: (decision: GateDecision) => void;
  /** Told of every failure-rule judgement (the command prints them, loudly when the share rule was not applied). */
  onFailureRule?: (judgement: FailureJudgement) => void;
  /** Makes the broker save its retained state to disk (DeployLink.persist); called after a manifest. */
  persist?: () => Promise<void>;
}

export async function readChannelState(ctx: ChannelContext, channel: string): Promise<ChannelState> {
  const manifestTopic = ctx.topics.manifest(channel);
  // One subscription for both, so one quiet period.
  const found = await readRetained(
    ctx.transport,
    [manifestTopic, ctx.topics.releaseRecords(channel)],
    ctx.retained,
  );
  const payload = found.get(manifestTopic);
  const current = payload ? parseLoosely(payload) : undefined;
  const records = new Map<number, SignedManifest>();
  for (const [topic, p] of found) {
    if (topic === manifestTopic) continue;
    const record = parseLoosely(p);
    if (record && record.channel === channel) records.set(record.version, record);
  }
  return { current, currentPayload: payload, records };
}

/** The channel's current manifest, verified against the deploy key: what rollout and rollback re-sign. */
export function verifiedCurrent(state: ChannelState, channel: string, keys: TrustedKeys): SignedManifest {
  if (!state.currentPayload) {
    throw new BookrecError('NO_RELEASE', `channel ${channel} has no release (publish one first)`);
  }
  try {
    return checkManifest(state.currentPayload, { keys, channel });
  } catch (err) {
    throw new BookrecError(
      'CURRENT_INVALID',
      `the current manifest of channel ${channel} does not verify with this key: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/**
 * The next serial of a channel: above the current one, and at least the clock in milliseconds, so the
 * serial keeps rising even if the broker lost its retained state.
 */
export function nextSerial(current: SignedManifest | undefined, now: number): number {
  return Math.max((current?.serial ?? 0) + 1, Math.floor(now));
}

/** The highest model version the channel has used, in its current manifest or any record left. */
export function highestVersion(state: ChannelState): number {
  return Math.max(state.current?.version ?? 0, ...state.records.keys());
}

function parseLoosely(payload: Buffer): SignedManifest | undefined {
  try {
    return validateManifest(JSON.parse(payload.toString('utf8')));
  } catch {
    return undefined;
  }
}
