import { errorMessage } from '../common/errors.js';
import type { Logger, LogLevel } from '../common/log.js';
import { TopicMap } from '../common/protocol/topics.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../deploy/broker.js';
import { SimDeployer } from './deployer.js';
import { FleetDriver } from './driver.js';
import { SimFleet } from './fleet.js';
import { createRingLogger, type RingLogger } from './ringLog.js';

/**
 * The fleet harness in one call, for the simulator and for anything else that needs a running fleet
 * (the chaos soak): a broker (embedded aedes on a free port, or an external one such as mosquitto),
 * the operator (deploy functions + a fresh signing key), N agent cores trusting that key, and the
 * readers' MQTT client. stop() undoes all of it, in reverse order, whatever failed.
 */
export interface HarnessOptions {
  devices: number;
  /** Where the devices' state directories go (removed at stop unless keepState). */
  rootDir: string;
  /** An external broker (e.g. mosquitto -p 1884); default: embedded aedes on 127.0.0.1, any free port. */
  brokerUrl?: string;
  prefix?: string;
  channel?: string;
  backend?: 'wasm' | 'cpu';
  /** Extra `bookrec agent` flags for every device. */
  agentArgs?: string[];
  /** Flags for one device (SimFleet's deviceArgs) and the agents' environment (e.g. BOOKREC_MQTT_PASSWORD). */
  deviceArgs?: (id: string, stateDir: string) => string[];
  agentEnv?: NodeJS.ProcessEnv;
  /** For a broker with passwords and an ACL (mosquitto): the operator's and the readers' credentials. */
  deploy?: { argv?: string[]; env?: NodeJS.ProcessEnv; signingKeyPem?: string; rolloutSalt?: string };
  readers?: { username: string; password: string };
  /** Level of the agents' log lines kept in the ring (default warn). */
  agentLogLevel?: LogLevel;
  keepState?: boolean;
  log: Logger;
}

export interface Harness {
  url: string;
  /** Set when the harness runs its own broker (a soak can stop and restart it through this). */
  broker: EmbeddedBroker | undefined;
  topics: TopicMap;
  channel: string;
  deployer: SimDeployer;
  fleet: SimFleet;
  driver: FleetDriver;
  /** The agents' log lines (bounded ring). */
  agentLog: RingLogger;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const log = options.log;
  const prefix = options.prefix ?? 'bookrec';
  const channel = options.channel ?? 'stable';
  const topics = new TopicMap(prefix);
  const undo: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) {
      await step().catch((err: unknown) =>
        log.warn('harness stop step failed', { error: errorMessage(err) }),
      );
    }
  };
  try {
    let broker: EmbeddedBroker | undefined;
    let url = options.brokerUrl;
    if (!url) {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: log.child('broker') });
      undo.push(() => broker!.stop());
      url = broker.url;
    }
    const deployer = await SimDeployer.connect({
      url,
      prefix,
      channel,
      log: log.child('deploy'),
      ...options.deploy,
    });
    undo.push(() => deployer.close());
    const driver = await FleetDriver.connect({ url, topics, ...options.readers });
    undo.push(() => driver.close());
    const agentLog = createRingLogger(options.agentLogLevel ?? 'warn');
    const fleet = await SimFleet.start({
      devices: options.devices,
      brokerUrl: url,
      rootDir: options.rootDir,
      trustedKeys: deployer.publicKey,
      prefix,
      channel,
      backend: options.backend,
      agentArgs: options.agentArgs,
      deviceArgs: options.deviceArgs,
      env: options.agentEnv,
      keepState: options.keepState,
      log: agentLog,
    });
    // Agents stop before the driver and the broker: their clean "offline" status needs the broker.
    undo.push(() => fleet.stop());
    return { url, broker, topics, channel, deployer, fleet, driver, agentLog, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
