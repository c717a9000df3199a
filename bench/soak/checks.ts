import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignedManifest } from '../../common/protocol/manifest.js';
import { parseStatus, type SeenStatus } from '../../common/protocol/status.js';
import { type SimDevice, SimFleet } from '../../sim/fleet.js';
import type { Harness } from '../../sim/harness.js';

/**
 * The end-of-soak checks per device, each against something independent of the agent's own word where
 * one exists: the model in use (in process), the files under <state>/current hashed again here and
 * compared with the signed manifest of the last good release, and the retained status the broker
 * holds (what `bookrec fleet` and the rollout abort rule read).
 */
export interface DeviceCheck {
  device: string;
  /** Empty when every check passed. */
  problems: string[];
}

export async function checkDevices(
  h: Harness,
  expected: SignedManifest,
  ranBad: (device: string) => number[],
): Promise<DeviceCheck[]> {
  const statuses = await h.deployer.retained('status');
  const out: DeviceCheck[] = [];
  for (const d of h.fleet.devices) {
    const problems: string[] = [];
    const running = SimFleet.version(d);
    if (running !== expected.version)
      problems.push(`runs ${running ?? 'no model'}, expected ${expected.version}`);
    problems.push(...(await checkReleaseFiles(d.stateDir, expected)));
    const payload = statuses.get(h.topics.device(d.id, 'status'));
    const status = payload ? parseStatus(payload) : undefined;
    problems.push(...checkStatus(status, expected));
    const bad = ranBad(d.id);
    if (bad.length > 0) problems.push(`ran a release it should have refused: ${bad.join(', ')}`);
    out.push({ device: d.id, problems });
  }
  return out;
}

/** Every file of the release, re-hashed from <state>/current, against the signed sha256 and size. */
export async function checkReleaseFiles(stateDir: string, expected: SignedManifest): Promise<string[]> {
  const problems: string[] = [];
  const dir = join(stateDir, 'current');
  try {
    const info = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as { version?: number };
    if (info.version !== expected.version) problems.push(`current/release.json says ${info.version}`);
  } catch (err) {
    problems.push(`current/release.json unreadable: ${(err as Error).message}`);
  }
  for (const f of expected.files) {
    try {
      const data = await readFile(join(dir, f.name));
      const sha = createHash('sha256').update(data).digest('hex');
      if (sha !== f.sha256 || data.length !== f.size)
        problems.push(`current/${f.name} does not match the signed sha256`);
    } catch (err) {
      problems.push(`current/${f.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

export function checkStatus(status: SeenStatus | undefined, expected: SignedManifest): string[] {
  if (!status) return ['no retained status'];
  const problems: string[] = [];
  if (status.state !== 'online') problems.push(`status ${status.state}`);
  if (status.model?.version !== expected.version) {
    problems.push(`status model ${status.model?.version ?? 'none'}, expected ${expected.version}`);
  }
  const u = status.lastUpdate;
  if (!u || u.version !== expected.version || u.result !== 'installed') {
    problems.push(
      `status lastUpdate ${u ? `${u.version} ${u.result}${u.code ? ` ${u.code}` : ''}` : 'none'}, expected ${expected.version} installed`,
    );
  }
  return problems;
}

/**
 * Waits until every device has refused `version` with `code`, or the timeout; returns how many did. Used
 * after a bad release: refusing it is the expected outcome. A release whose signature held is refused in
 * the device's status (the one it publishes retained, lastUpdate); a manifest whose signature does not
 * verify is refused before any of its fields are believed and never reaches that status (the device
 * counts it apart, StatusReporter.lastRefusal): pass version 0 for it.
 */
export async function waitRefused(
  h: Harness,
  version: number,
  code: string,
  timeoutMs: number,
): Promise<{ refused: number; codes: Map<string, number> }> {
  const refusedBy = (d: SimDevice) => {
    if (version === 0) return d.service.status.lastRefusal?.code === code;
    const u = d.service.status.lastUpdate;
    return u?.version === version && u.result !== 'installed' && u.code === code;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !h.fleet.devices.every(refusedBy))
    await new Promise((r) => setTimeout(r, 100));
  const codes = new Map<string, number>();
  for (const d of h.fleet.devices) {
    const u = d.service.status.lastUpdate;
    const r = d.service.status.lastRefusal;
    let key = 'none';
    if (version === 0 && r) key = `unverified ${r.code}`;
    else if (version !== 0 && u) key = `${u.version} ${u.result}${u.code ? ` ${u.code}` : ''}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  return { refused: h.fleet.devices.filter(refusedBy).length, codes };
}
