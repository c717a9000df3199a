import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AgentConfig, agentConfig } from '../agent/config.js';
import { AgentService } from '../agent/service.js';
import { FakeGpio } from '../agent/signals/gpio/fakeGpio.js';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { useBackend } from '../common/model/backend.js';

/**
 * The simulated fleet: N real agent cores (AgentService, the composition root `bookrec agent` runs) in
 * this process, each with its own state directory, its own MQTT connection (mqtt.js, as on a speaker)
 * and a fake GPIO whose recommend button the harness can press. Only what a speaker has and this
 * machine lacks is replaced: GPIO (fake), speech (off: output mode `publish`). Everything else is the
 * production code path: signed release download and install, model store, history, signals, ranking.
 *
 * One process instead of N: 200 Node processes would need ~200 x 60 MB before any model is loaded and
 * 200 copies of the tfjs wasm runtime; in one process the runtime is initialised once and shared (the
 * backend is global to tfjs), while every agent still loads, self-tests and holds its own model.
 */

/** Line offsets of the fake buttons (the agent needs a pin per button it watches). */
export const SIM_PINS = { recommend: 17, like: 27, skip: 22 } as const;

export interface FleetOptions {
  /** How many devices. */
  devices: number;
  brokerUrl: string;
  /** State directories go to <rootDir>/<deviceId>; removed by stop() unless keepState. */
  rootDir: string;
  /** Base64 Ed25519 public key(s) the devices trust (comma-separated). */
  trustedKeys: string;
  /** Device ids are <idPrefix><index, 3+ digits>: default "sim-". */
  idPrefix?: string;
  channel?: string;
  prefix?: string;
  /** tfjs backend for every agent (one per process): wasm by default, as on a speaker. */
  backend?: AgentConfig['backend'];
  /** Extra `bookrec agent` flags for every device (e.g. --history-max-events). */
  agentArgs?: string[];
  /** Flags for one device, after agentArgs (e.g. its own --signals-file). */
  deviceArgs?: (id: string, stateDir: string) => string[];
  /** Environment for the agents' settings (e.g. BOOKREC_MQTT_PASSWORD). */
  env?: NodeJS.ProcessEnv;
  /** Per-device logger; a bounded one, see ringLog.ts. */
  log: Logger;
  /** Agents started at once (connect + load from disk); bounded so 200 connects do not time out. */
  startConcurrency?: number;
  keepState?: boolean;
}

export interface SimDevice {
  readonly id: string;
  readonly index: number;
  readonly stateDir: string;
  readonly service: AgentService;
  readonly gpio: FakeGpio;
}

export class SimFleet {
  readonly devices: SimDevice[];
  private readonly options: FleetOptions;
  private stopped = false;

  private constructor(options: FleetOptions, devices: SimDevice[]) {
    this.options = options;
    this.devices = devices;
  }

  /** Builds and starts every device; on a failure the ones started are stopped again. */
  static async start(options: FleetOptions): Promise<SimFleet> {
    if (!Number.isInteger(options.devices) || options.devices < 1) {
      throw new BookrecError('USAGE', `devices must be a positive integer, got ${options.devices}`);
    }
    // Once, before the agents: every AgentService.start() calls useBackend again, which is then a
    // cheap no-op switch to the backend already initialised.
    await useBackend(options.backend ?? 'wasm');
    await mkdir(options.rootDir, { recursive: true });
    const digits = Math.max(3, String(options.devices - 1).length);
    const devices = Array.from({ length: options.devices }, (_, index) =>
      buildDevice(options, index, `${options.idPrefix ?? 'sim-'}${String(index).padStart(digits, '0')}`),
    );
    const fleet = new SimFleet(options, devices);
    try {
      await forEachLimit(devices, options.startConcurrency ?? 20, (d) => d.service.start());
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  device(id: string): SimDevice {
    const d = this.devices.find((x) => x.id === id);
    if (!d) throw new BookrecError('SIM_DEVICE', `no simulated device ${id}`);
    return d;
  }

  /** The model version a device runs now (in-process view; MQTT status says the same, retained). */
  static version(d: SimDevice): number | undefined {
    return d.service.store.current?.release.version;
  }

  /** Devices per installed version ('none' for no model). */
  versions(): Map<number | 'none', number> {
    const out = new Map<number | 'none', number>();
    for (const d of this.devices) {
      const v = SimFleet.version(d) ?? 'none';
      out.set(v, (out.get(v) ?? 0) + 1);
    }
    return out;
  }

  /** Presses a device's fake button (the GPIO path: debounce, then the same responder as a command). */
  press(d: SimDevice, button: keyof typeof SIM_PINS): Promise<void> {
    return d.gpio.press(SIM_PINS[button]);
  }

  /**
   * Polls the in-process agents until `done` holds for every device in `devices` (default: all), or
   * fails after `timeoutMs` naming how many (and which first few) are still waiting.
   */
  async waitFor(
    what: string,
    done: (d: SimDevice) => boolean,
    timeoutMs: number,
    devices: SimDevice[] = this.devices,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = devices.filter((d) => !done(d));
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new BookrecError(
          'SIM_TIMEOUT',
          `${what}: ${waiting.length} of ${devices.length} devices still waiting after ${timeoutMs} ms (${waiting
            .slice(0, 5)
            .map((d) => d.id)
            .join(', ')}${waiting.length > 5 ? ', ...' : ''})`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops every agent (clean MQTT disconnect, history flushed), then removes the state unless kept. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await forEachLimit(this.devices, 50, (d) =>
      d.service.stop().catch((err: unknown) => this.options.log.warn('stop failed', { device: d.id, err })),
    );
    if (!this.options.keepState) await rm(this.options.rootDir, { recursive: true, force: true });
  }
}

function buildDevice(options: FleetOptions, index: number, id: string): SimDevice {
  const stateDir = join(options.rootDir, id);
  const config = agentConfig({
    env: options.env ?? {},
    argv: [
      '--device-id',
      id,
      '--broker',
      options.brokerUrl,
      '--state-dir',
      stateDir,
      '--trusted-keys',
      options.trustedKeys,
      '--channel',
      options.channel ?? 'stable',
      '--prefix',
      options.prefix ?? 'bookrec',
      '--backend',
      options.backend ?? 'wasm',
      // Speech would spawn espeak-ng per answer; what the simulator judges is the published JSON.
      '--tts',
      'none',
      '--audio',
      'none',
      '--output',
      'publish',
      '--gpio-backend',
      'fake',
      '--gpio-recommend',
      String(SIM_PINS.recommend),
      '--gpio-like',
      String(SIM_PINS.like),
      '--gpio-skip',
      String(SIM_PINS.skip),
      '--gpio-debounce-ms',
      '10',
      // 200 clients connecting at once to one broker on 2 cores: give the handshake time.
      '--timeout-seconds',
      '30',
      '--reconnect-min-seconds',
      '0.2',
      '--reconnect-max-seconds',
      '5',
      ...(options.agentArgs ?? []),
      ...(options.deviceArgs?.(id, stateDir) ?? []),
    ],
  });
  const gpio = new FakeGpio();
  const log = options.log.child(id);
  const service = new AgentService({
    config,
    env: {},
    log,
    gpio,
    // No NOTIFY_SOCKET: systemd notifications are no-ops, as outside systemd.
    notify: async () => undefined,
  });
  return { id, index, stateDir, service, gpio };
}

/** Runs `work` over `items` with at most `limit` at a time; the first failure is thrown after all settle. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure;
}
