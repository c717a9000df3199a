import { createHash } from 'node:crypto';

/**
 * A device's place in a staged rollout: a stable number in [0, 100) from sha256(salt ":" deviceId). The
 * device is in when its bucket is below the rollout percent, so widening 10% -> 50% keeps the first 10%
 * (same salt), and a new release draws a new salt so the same devices are not always first.
 */
export function rolloutBucket(deviceId: string, salt: string): number {
  const digest = createHash('sha256').update(`${salt}:${deviceId}`, 'utf8').digest();
  // 32 bits are plenty for 0.01% resolution and read the same on every platform.
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

export function inRollout(deviceId: string, rollout: { percent: number; salt: string }): boolean {
  return rolloutBucket(deviceId, rollout.salt) < rollout.percent;
}
