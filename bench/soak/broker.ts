import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigDir, type MosquittoBroker, startMosquitto } from '../../deploy/mosquittoProcess.js';
import { ChaosProxy } from './proxy.js';

/**
 * The soak's broker: a real mosquitto with the production configuration (persistence on,
 * autosave_interval 60, the production ACL and passwords; only TLS and file paths differ, see
 * deploy/mosquittoProcess.ts) behind a ChaosProxy the devices connect through. The ACL is the
 * production one plus one user for the simulated readers' apps: in production each app writes its own
 * speaker's signals with that speaker's credentials; here one client plays every app.
 */
export const READERS_USER = 'sim-readers';
const READERS_ACL = [
  '',
  "# soak only: the simulated readers, one MQTT client for every speaker's apps",
  `user ${READERS_USER}`,
  'topic write bookrec/devices/+/signals',
  'topic write bookrec/devices/+/commands',
  'topic read bookrec/devices/+/recommendations',
  '',
].join('\n');

export interface SoakBrokerOptions {
  deviceIds: string[];
  /** One password for every device user (the agents take it from BOOKREC_MQTT_PASSWORD). */
  devicePassword: string;
  deployPassword: string;
  readersPassword: string;
}

export interface SoakBroker {
  mosquitto: MosquittoBroker;
  proxy: ChaosProxy;
  /** Where devices connect: the proxy. */
  url: string;
  /** Where the operator and readers connect: mosquitto itself (their links are not the ones under test). */
  directUrl: string;
  /** kill -9, then start again on the same port with the same persistence folder; returns the ms down. */
  killAndRestart(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSoakBroker(options: SoakBrokerOptions): Promise<SoakBroker> {
  const configDir = await mkdtemp(join(tmpdir(), 'bookrec-soak-conf-'));
  const production = defaultConfigDir();
  await copyFile(join(production, 'mosquitto.conf'), join(configDir, 'mosquitto.conf'));
  await writeFile(join(configDir, 'acl'), (await readFile(join(production, 'acl'), 'utf8')) + READERS_ACL);
  const users: Record<string, string> = {
    deploy: options.deployPassword,
    [READERS_USER]: options.readersPassword,
  };
  for (const id of options.deviceIds) users[id] = options.devicePassword;
  let mosquitto: MosquittoBroker | undefined;
  try {
    mosquitto = await startMosquitto({ users, configDir, persistence: true });
    const proxy = await ChaosProxy.start(mosquitto.port);
    const m = mosquitto;
    return {
      mosquitto: m,
      proxy,
      url: proxy.url,
      directUrl: m.url,
      async killAndRestart() {
        const pid = m.pid();
        const started = Date.now();
        if (pid !== undefined) {
          process.kill(pid, 'SIGKILL');
          // Wait for the kernel to release the port and the process to be gone before restarting.
          while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
        }
        // restart() SIGTERMs a process that is already dead (a no-op) and launches on the same port.
        await m.restart();
        return Date.now() - started;
      },
      async stop() {
        await proxy.stop();
        await m.stop();
        await rm(configDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await mosquitto?.stop();
    await rm(configDir, { recursive: true, force: true });
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
