import { HistoryStore } from '../../agent/history.js';
import { createMemoryLogger } from '../../common/log.js';
import { type SimDevice, SimFleet } from '../../sim/fleet.js';
import type { SignalLedger, WrittenSignal } from './ledger.js';

/**
 * What each device did over time, polled from the in-process agents: when its MQTT link was down
 * (AgentLink.online), to tell an MQTT signal the protocol could not deliver (acknowledged while its
 * device was off the broker) from one the agent lost; and every model version it ran, so a device that
 * ran a bad release even for a moment is caught. Bounded: one interval per disconnect, one entry per
 * version.
 */
export class LinkWatch {
  /** Per device: [wentDown, cameBack] (cameBack Infinity while still down). */
  readonly down = new Map<string, [number, number][]>();
  /** Per device: the model versions it has run. */
  readonly ran = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly devices: readonly SimDevice[]) {}

  start(everyMs = 100): void {
    this.timer = setInterval(() => this.poll(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }

  /** Whether [from, to] comes within the margins of a time the device was off the broker. */
  overlapsDown(device: string, from: number, to: number, before: number, after: number): boolean {
    return (this.down.get(device) ?? []).some(([d, u]) => from <= u + after && to >= d - before);
  }

  disconnects(): number {
    let n = 0;
    for (const list of this.down.values()) n += list.length;
    return n;
  }

  private poll(): void {
    const now = Date.now();
    for (const d of this.devices) {
      const list = this.down.get(d.id) ?? [];
      const open = list.length > 0 && list[list.length - 1][1] === Number.POSITIVE_INFINITY;
      const online = d.service.link.online;
      if (!online && !open) list.push([now, Number.POSITIVE_INFINITY]);
      if (online && open) list[list.length - 1][1] = now;
      this.down.set(d.id, list);
      const v = SimFleet.version(d);
      if (v !== undefined) {
        const set = this.ran.get(d.id) ?? new Set<number>();
        set.add(v);
        this.ran.set(d.id, set);
      }
    }
  }
}

/** An MQTT signal within this long before a device went off the broker may have been in flight. */
export const EXCUSE_BEFORE_MS = 1000;
/** ...and this long after it came back: mqtt.js renews the subscriptions after the CONNACK. */
export const EXCUSE_AFTER_MS = 5000;

export interface ViaTally {
  /** Writes attempted. */
  sent: number;
  /** Written (file: appended and synced; mqtt: PUBACKed). */
  written: number;
  /** Written and found in the device's history on disk. */
  found: number;
  /** MQTT only: written while the device was off the broker (see ledger.ts), not found. */
  excused: number;
  /** Written, not found, not excused: the number that must be 0. */
  lost: number;
  /** Not counted as written but found anyway (an MQTT publish whose PUBACK was lost). */
  extra: number;
}

export interface Accounting {
  file: ViaTally;
  mqtt: ViaTally;
  /** History entries found more than once (QoS 1 is at least once). */
  duplicates: number;
  /** Entries of ours whose book or kind differ from what was written (must be 0). */
  mismatched: number;
  /** The first few lost signals, for the report. */
  lostSamples: string[];
}

/**
 * Reads a device's history from its state directory the way the agent does on start (snapshot + log).
 * readOnly: the agent may be running (nothing is cut or moved; a compaction in between can hide events
 * for one read, so use it for waiting, and decide on a read after the agent stopped).
 */
export async function historyOnDisk(stateDir: string, maxEvents: number, readOnly = false) {
  const store = new HistoryStore({
    stateDir,
    log: createMemoryLogger('error'),
    maxEvents,
    compactEvery: 1e6,
    readOnly,
  });
  await store.start();
  const entries = [...store.entries()];
  await store.stop();
  return entries;
}

/** Compares what the ledger wrote with what each device's history holds. */
export function account(
  ledger: SignalLedger,
  histories: Map<string, readonly { bookId: number; kind: string; at: number }[]>,
  watch: LinkWatch,
): Accounting {
  const seen = new Map<number, number>();
  const byId = new Map(ledger.written.map((s) => [s.id, s]));
  let mismatched = 0;
  for (const [device, entries] of histories) {
    for (const e of entries) {
      const id = ledger.idOf(e.at);
      if (id === undefined) continue;
      const s = byId.get(id);
      if (!s || s.device !== device || s.bookId !== e.bookId || s.kind !== e.kind) {
        mismatched++;
        continue;
      }
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const tally = (): ViaTally => ({ sent: 0, written: 0, found: 0, excused: 0, lost: 0, extra: 0 });
  const out: Accounting = { file: tally(), mqtt: tally(), duplicates: 0, mismatched, lostSamples: [] };
  for (const s of ledger.written) {
    const t = out[s.via];
    const count = seen.get(s.id) ?? 0;
    t.sent++;
    if (count > 1) out.duplicates += count - 1;
    if (s.writtenAt === undefined) {
      if (count > 0) t.extra++;
      continue;
    }
    t.written++;
    if (count > 0) t.found++;
    else if (excused(s, watch)) t.excused++;
    else {
      t.lost++;
      if (out.lostSamples.length < 10) out.lostSamples.push(describe(s, ledger.t0));
    }
  }
  return out;
}

/** Whether an unfound signal is one MQTT could not deliver (see ledger.ts); a file line never is. */
export function excused(s: WrittenSignal, watch: LinkWatch): boolean {
  if (s.via !== 'mqtt') return false;
  return watch.overlapsDown(s.device, s.sentAt, s.writtenAt ?? s.sentAt, EXCUSE_BEFORE_MS, EXCUSE_AFTER_MS);
}

function describe(s: WrittenSignal, t0: number): string {
  const at = new Date(t0 + s.id).toISOString();
  return `${s.device} #${s.id} via ${s.via} (book ${s.bookId}, ${s.kind}, at ${at}), sent ${new Date(s.sentAt).toISOString()}, written ${new Date(s.writtenAt ?? 0).toISOString()}`;
}

/** What must hold of the signals in every soak; each broken rule is one failure line. */
export function signalFailures(signals: Accounting, ledger: { fileErrors: number }): string[] {
  const failures: string[] = [];
  const lost = signals.file.lost + signals.mqtt.lost;
  if (lost > 0) failures.push(`${lost} written signals lost`);
  if (signals.mismatched > 0)
    failures.push(`${signals.mismatched} history entries differ from what was written`);
  if (ledger.fileErrors > 0) failures.push(`${ledger.fileErrors} appends to signals files failed`);
  if (signals.file.written === 0 || signals.mqtt.written === 0)
    failures.push('no signals written on one of the ways in');
  return failures;
}
