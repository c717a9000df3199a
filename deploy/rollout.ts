import type { KeyObject } from 'node:crypto';
import { BookrecError } from '../common/errors.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import { signManifest } from '../common/protocol/signing.js';
import { nextSerial, type RolloutContext, readChannelState, verifiedCurrent } from './channelState.js';
import { type FailureShare, judgeFailures } from './failureRule.js';
import { fleetSnapshot } from './fleet.js';
import { type GateOptions, gateBeforeWidening } from './rolloutGate.js';

export type { FailureShare } from './failureRule.js';

/**
 * Among devices that reported on a release, the share that failed: each device's last update from its
 * retained status, or from its report when the status is a last will (which claims nothing).
 */
export async function failureShare(ctx: RolloutContext, manifest: SignedManifest): Promise<FailureShare> {
  const view = await fleetSnapshot(ctx.transport, ctx.topics, ctx.retained);
  let installed = 0;
  let failed = 0;
  for (const device of view.list()) {
    const report = device.lastUpdate;
    if (!report || report.channel !== manifest.channel || report.version !== manifest.version) continue;
    if (report.result === 'installed') installed++;
    else failed++;
  }
  const total = installed + failed;
  return { installed, failed, share: total === 0 ? 0 : failed / total };
}

export interface RolloutRequest {
  channel: string;
  percent: number;
  /** Refuse to widen when more than this share of reports failed (1: no rule). */
  maxFailureShare: number;
  /** Reports needed before the share is judged; with fewer, any failure stops (deploy/failureRule.ts). */
  minReports: number;
  /** Widen in steps of this many percent (0: at once). */
  step: number;
  stepWaitMs: number;
  /** The quality gate (deploy/rolloutGate.ts), judged before every widening step; none: no gate. */
  gate?: GateOptions;
}

/**
 * Re-signs the channel's current manifest with a new rollout percent (same salt, so devices already in
 * stay in). With a step, widens gradually and checks the failure share devices report before each
 * widening: the abort rule stops at the last safe percent and fails with ROLLOUT_ABORTED. With a gate,
 * the quality gate (deploy/rolloutGate.ts) is judged before every widening step too.
 */
export async function changeRollout(
  ctx: RolloutContext,
  request: RolloutRequest,
  key: KeyObject,
): Promise<SignedManifest> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? abortableSleep;
  let manifest = verifiedCurrent(await readChannelState(ctx, request.channel), request.channel, ctx.keys);
  const from = manifest.rollout.percent;
  const targets = stepsFrom(from, request.percent, request.step);
  if (request.percent < from)
    ctx.log.warn('narrowing a rollout: devices that installed keep the release', { from });
  for (const [i, percent] of targets.entries()) {
    if (i > 0) await sleep(request.stepWaitMs, ctx.signal);
    if (percent > manifest.rollout.percent && request.maxFailureShare < 1) {
      const f = await failureShare(ctx, manifest);
      const j = judgeFailures(f, { maxShare: request.maxFailureShare, minReports: request.minReports });
      ctx.log.info('failure share', { ...f, version: manifest.version, rule: j.rule, verdict: j.verdict });
      ctx.onFailureRule?.(j);
      if (j.verdict === 'stop') {
        throw new BookrecError(
          'ROLLOUT_ABORTED',
          `rollout of version ${manifest.version} stopped at ${manifest.rollout.percent}%: ${j.reason}`,
        );
      }
      // Widening on a handful of reports is the operator's call to know about, not a line at info.
      if (j.rule === 'count') {
        ctx.log.warn('failure share rule not applied: too few reports', {
          version: manifest.version,
          reports: f.installed + f.failed,
          minReports: request.minReports,
          percent,
        });
      }
    }
    if (percent > manifest.rollout.percent && request.gate) {
      await gateBeforeWidening(ctx, manifest, request.gate, sleep);
    }
    const { signature: _s, keyId: _k, ...body } = manifest;
    manifest = signManifest(
      { ...body, rollout: { ...manifest.rollout, percent }, serial: nextSerial(manifest, now()) },
      key,
    );
    await ctx.transport.publish(ctx.topics.manifest(request.channel), JSON.stringify(manifest), {
      retain: true,
      json: true,
    });
    await ctx.persist?.();
    ctx.log.info('rollout', { channel: request.channel, version: manifest.version, percent });
  }
  return manifest;
}

/** The percents to go through from `from` to `to`, ending exactly at `to`. */
export function stepsFrom(from: number, to: number, step: number): number[] {
  if (step <= 0 || to <= from) return [to];
  const out: number[] = [];
  for (let p = from + step; p < to; p += step) out.push(Math.round(p * 100) / 100);
  out.push(to);
  return out;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
