import { BookrecError } from '../common/errors.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import { inRollout } from '../common/protocol/rolloutBucket.js';
import type { Signal } from '../common/protocol/signals.js';
import { forEachLimit, type SimDevice, SimFleet } from './fleet.js';
import type { Harness } from './harness.js';
import { foldInSignals, judge, type SimReader } from './readers.js';

/**
 * What the simulated readers do with their speakers, through the agents' public inputs only (MQTT
 * signals and commands, or the fake button), and the waits that make each step complete before the
 * next. Waits look at the in-process agents (history intake, installed model): the simulator runs them,
 * so it can know exactly when a signal is stored instead of sleeping and hoping.
 */
export interface Player {
  device: SimDevice;
  reader: SimReader;
}

/** Per model version: answers seen and how many the readers accepted (the simulator's own tally). */
export interface VersionTally {
  devices: Set<string>;
  recommendations: number;
  accepted: number;
  /** Answers from the package's fallback list (no usable history): should be 0 after the fold-in. */
  fallback: number;
}

export type Tally = Map<number, VersionTally>;

export function addTally(into: Tally, from: Tally): void {
  for (const [v, t] of from) {
    const o = into.get(v) ?? { devices: new Set(), recommendations: 0, accepted: 0, fallback: 0 };
    for (const d of t.devices) o.devices.add(d);
    o.recommendations += t.recommendations;
    o.accepted += t.accepted;
    o.fallback += t.fallback;
    into.set(v, o);
  }
}

const CONCURRENCY = 50;

/** Signals stored or refused so far by a device (every signal that reached its intake). */
function intakeSeen(d: SimDevice): number {
  const c = d.service.intake.counters;
  return c.accepted + c.unknownBook + c.malformed + c.duplicate;
}

/**
 * Sends signals to each player's device over MQTT and waits until every device's intake has taken
 * them (stored, or refused as unknown/malformed, which the result counts).
 */
export async function sendSignals(
  h: Harness,
  batches: { device: SimDevice; signals: Signal[] }[],
  timeoutMs = 60_000,
): Promise<{ sent: number; refused: number }> {
  const base = new Map(batches.map((b) => [b.device.id, intakeSeen(b.device)]));
  const refusedBefore = sumRefused(batches.map((b) => b.device));
  await forEachLimit(batches, CONCURRENCY, (b) => h.driver.signals(b.device.id, b.signals));
  const want = new Map(batches.map((b) => [b.device.id, base.get(b.device.id)! + b.signals.length]));
  await h.fleet.waitFor(
    'signals stored',
    (d) => intakeSeen(d) >= want.get(d.id)!,
    timeoutMs,
    batches.map((b) => b.device),
  );
  const sent = batches.reduce((n, b) => n + b.signals.length, 0);
  return { sent, refused: sumRefused(batches.map((b) => b.device)) - refusedBefore };
}

function sumRefused(devices: SimDevice[]): number {
  return devices.reduce(
    (n, d) => n + d.service.intake.counters.unknownBook + d.service.intake.counters.malformed,
    0,
  );
}

/** Every reader's fold-in to its speaker (run after a model is installed: unknown books are refused). */
export function replayFoldIn(h: Harness, players: Player[], now = Date.now()) {
  return sendSignals(
    h,
    players.map((p) => ({ device: p.device, signals: foldInSignals(p.reader, now) })),
  );
}

/**
 * One round: every player asks its speaker (MQTT command, or the fake button with `via: 'button'`),
 * judges the answer against its reader's targets and sends the follow-up, which is stored before the
 * round ends. Returns the tally per model version that answered.
 */
export async function askRound(
  h: Harness,
  players: Player[],
  options: { via?: 'command' | 'button'; timeoutMs?: number } = {},
): Promise<Tally> {
  const tally: Tally = new Map();
  const followUps: { device: SimDevice; signals: Signal[] }[] = [];
  await forEachLimit(players, CONCURRENCY, async (p) => {
    const press = options.via === 'button' ? () => h.fleet.press(p.device, 'recommend') : undefined;
    const rec = await h.driver.ask(p.device.id, press);
    const verdict = judge(p.reader, rec, Date.now());
    const t = tally.get(rec.modelVersion) ?? {
      devices: new Set(),
      recommendations: 0,
      accepted: 0,
      fallback: 0,
    };
    t.devices.add(p.device.id);
    t.recommendations++;
    if (verdict.accepted !== undefined) t.accepted++;
    if (rec.source === 'fallback') t.fallback++;
    tally.set(rec.modelVersion, t);
    if (verdict.followUp.length > 0) followUps.push({ device: p.device, signals: verdict.followUp });
  });
  await sendSignals(h, followUps, options.timeoutMs);
  return tally;
}

/** The devices a release's rollout selects (the same bucket rule the devices apply). */
export function selected(h: Harness, manifest: SignedManifest): SimDevice[] {
  return h.fleet.devices.filter((d) => inRollout(d.id, manifest.rollout));
}

/** Waits until `devices` run `version` (installed, self-tested and switched to). */
export async function waitForVersion(
  h: Harness,
  devices: SimDevice[],
  version: number,
  timeoutMs = 120_000,
): Promise<void> {
  await h.fleet.waitFor(
    `install of version ${version}`,
    (d) => SimFleet.version(d) === version,
    timeoutMs,
    devices,
  );
}

/** Fails when some device runs a version outside `allowed` (e.g. a device outside a rollout took it). */
export function expectVersions(h: Harness, allowed: number[]): void {
  const wrong = h.fleet.devices.filter((d) => !allowed.includes(SimFleet.version(d) ?? -1));
  if (wrong.length > 0) {
    throw new BookrecError(
      'SIM_UNEXPECTED_VERSION',
      `${wrong.length} devices run a version outside ${allowed.join(', ')}: ${wrong
        .slice(0, 5)
        .map((d) => `${d.id}=${SimFleet.version(d) ?? 'none'}`)
        .join(', ')}`,
    );
  }
}
