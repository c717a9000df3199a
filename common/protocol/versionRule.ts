import { compareSemver, type ReleaseManifest } from './manifest.js';
import { inRollout } from './rolloutBucket.js';

/**
 * Whether a device should fetch a verified manifest's release. A device never goes to a lower version
 * unless the manifest is a signed rollback, and never accepts a manifest older (by serial) than the last
 * one it acted on, so an old rollback cannot be replayed after a newer release.
 */

export interface DeviceReleaseState {
  /** The model version installed now; null on a device without a model. */
  installedVersion: number | null;
  /** Serial of the manifest the installed model came from; null when unknown. */
  lastSerial: number | null;
}

export type Decision =
  | { action: 'fetch' }
  | { action: 'skip'; code: 'ALREADY_INSTALLED' | 'NOT_IN_ROLLOUT'; reason: string }
  | { action: 'reject'; code: 'MANIFEST_DOWNGRADE' | 'MANIFEST_REPLAY' | 'AGENT_TOO_OLD'; reason: string };

export interface DecideInput {
  manifest: ReleaseManifest;
  state: DeviceReleaseState;
  deviceId: string;
  agentVersion: string;
}

export function decide({ manifest, state, deviceId, agentVersion }: DecideInput): Decision {
  const { installedVersion, lastSerial } = state;
  if (installedVersion !== null && manifest.version < installedVersion && !manifest.rollback) {
    return {
      action: 'reject',
      code: 'MANIFEST_DOWNGRADE',
      reason: `version ${manifest.version} is lower than the installed ${installedVersion} and the manifest is not a rollback`,
    };
  }
  if (lastSerial !== null && manifest.serial < lastSerial) {
    return {
      action: 'reject',
      code: 'MANIFEST_REPLAY',
      reason: `manifest serial ${manifest.serial} is older than the last accepted ${lastSerial} (replayed)`,
    };
  }
  if (installedVersion === manifest.version) {
    return { action: 'skip', code: 'ALREADY_INSTALLED', reason: `version ${manifest.version} is installed` };
  }
  if (!inRollout(deviceId, manifest.rollout)) {
    return {
      action: 'skip',
      code: 'NOT_IN_ROLLOUT',
      reason: `device is outside the ${manifest.rollout.percent}% rollout of version ${manifest.version}`,
    };
  }
  if (compareSemver(agentVersion, manifest.minAgentVersion) < 0) {
    return {
      action: 'reject',
      code: 'AGENT_TOO_OLD',
      reason: `agent ${agentVersion} is older than the release's minimum ${manifest.minAgentVersion}`,
    };
  }
  return { action: 'fetch' };
}
