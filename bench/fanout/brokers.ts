import { BookrecError } from '../../common/errors.js';
import { loopbackBridge, type MosquittoBroker, startMosquitto } from '../../deploy/mosquittoProcess.js';

/**
 * The brokers of a fan-out run: one mosquitto, or a core and an edge bridged to it with the shipped
 * bridge.conf. Both run the production config and ACL (deploy/mosquitto, through startMosquitto) with
 * persistence off: the run measures delivery, and a store saved every 100 changes would be saved
 * hundreds of times by ten thousand subscriptions. Every device has its own user (its client id, as in
 * production, so the ACL's %u patterns apply), all with one password.
 */

export const DEVICE_PASSWORD = 'fanout-device-pw';
const DEPLOY_PASSWORD = 'deploy-pw';
/** The edge's site user at the core (bridge.conf's remote_username); no device of its own is needed. */
const SITE = { username: 'site-1', password: 'site-1-pw' };

export type Topology = 'single' | 'bridged';

export interface FanoutBrokers {
  /** Where the operator publishes. */
  publishTo: MosquittoBroker;
  /** Where the devices connect. */
  devicesOn: MosquittoBroker;
  /** Every broker, named for reports. */
  all: { name: string; broker: MosquittoBroker }[];
  deployUser: { username: string; password: string };
  stop(): Promise<void>;
}

export async function startBrokers(topology: Topology, deviceIds: string[]): Promise<FanoutBrokers> {
  const devices = Object.fromEntries(deviceIds.map((id) => [id, DEVICE_PASSWORD]));
  const deployUser = { username: 'deploy', password: DEPLOY_PASSWORD };
  if (topology === 'single') {
    const broker = await startMosquitto({
      users: { deploy: DEPLOY_PASSWORD, ...devices },
      persistence: false,
    });
    return {
      publishTo: broker,
      devicesOn: broker,
      all: [{ name: 'mosquitto', broker }],
      deployUser,
      stop: () => broker.stop(),
    };
  }
  const core = await startMosquitto({
    users: { deploy: DEPLOY_PASSWORD, [SITE.username]: SITE.password },
    persistence: false,
  });
  try {
    const edge = await startMosquitto({
      users: devices,
      persistence: false,
      extra: await loopbackBridge(core.port, SITE),
    });
    const stop = async () => {
      await edge.stop();
      await core.stop();
    };
    try {
      await bridgeUp(core);
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      publishTo: core,
      devicesOn: edge,
      all: [
        { name: 'core (publish)', broker: core },
        { name: 'edge (devices)', broker: edge },
      ],
      deployUser,
      stop,
    };
  } catch (err) {
    await core.stop();
    throw err;
  }
}

/** Waits for the core to log the edge's bridge connection (as the site user). */
async function bridgeUp(core: MosquittoBroker): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!core.log().includes(`u'${SITE.username}'`)) {
    if (Date.now() > deadline) {
      throw new BookrecError('BRIDGE_DOWN', `the edge's bridge did not connect within 20 s: ${core.log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
