import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IClientOptions, MqttClient } from 'mqtt';
import { BookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { connectMqtt } from '../common/mqttConnect.js';
import { safeUrl } from '../common/mqttSettings.js';
import { mqttTransport, type Transport, withTimeout } from '../common/protocol/transport.js';
import type { ConnectionConfig, ReadConnectionConfig } from './connectionConfig.js';

/** deploy's connection to the broker: the protocol Transport plus the client for what it needs beyond. */
export interface DeployLink extends Transport {
  client: MqttClient;
  timeoutMs: number;
  quietMs: number;
  /**
   * Makes the broker save its store to disk now: mosquitto takes no such request, but with
   * autosave_on_changes it saves once its change count reaches autosave_interval, and a SUBSCRIBE is a
   * change. So: that many SUBSCRIBEs (to unique filters nobody publishes to, one round trip in all),
   * then one UNSUBSCRIBE. Afterwards everything published before is in the saved store.
   */
  persist(): Promise<void>;
  close(): Promise<void>;
}

/** mqtt.js options from connection settings (deploy's, and `bookrec serve`'s): credentials, TLS files, protocol version. */
export async function clientOptions(
  broker: Omit<ReadConnectionConfig['broker'], 'quietMs'>,
): Promise<IClientOptions> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new BookrecError('CONFIG_FILE', `${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  };
  const options: IClientOptions = {
    clientId: broker.clientId || `bookrec-deploy-${randomBytes(4).toString('hex')}`,
    protocolVersion: broker.mqttVersion === '5' ? 5 : 4,
    clean: true,
    connectTimeout: broker.timeoutSeconds * 1000,
    reconnectPeriod: 1000,
  };
  if (broker.username) options.username = broker.username;
  if (broker.password) options.password = broker.password;
  if (broker.ca) options.ca = await read(broker.ca, 'CA certificate');
  if (broker.cert) options.cert = await read(broker.cert, 'client certificate');
  if (broker.key) options.key = await read(broker.key, 'client key');
  return options;
}

/** Connects, failing with BROKER_UNREACHABLE (never the password) when the broker does not accept. */
export async function connectDeploy(
  config: ReadConnectionConfig & { broker: Partial<Pick<ConnectionConfig['broker'], 'autosaveChanges'>> },
  log: Logger,
): Promise<DeployLink> {
  const options = await clientOptions(config.broker);
  const timeoutMs = config.broker.timeoutSeconds * 1000;
  const where = safeUrl(config.broker.url);
  log.debug('connecting', { broker: where, username: config.broker.username, clientId: options.clientId });
  // Without reconnects while connecting, a refused login fails at once instead of retrying until timeout.
  const client = connectMqtt(
    config.broker.url,
    { ...options, reconnectPeriod: 0 },
    {
      onDropped: (p) =>
        log.warn('incoming message dropped: larger than the packet limit', {
          topic: p.topic,
          bytes: p.bytes,
        }),
    },
  );
  let onError: (err: Error) => void = () => undefined;
  let onClose: () => void = () => undefined;
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        onError = reject;
        onClose = () => reject(new Error('connection closed'));
        client.once('connect', () => resolve());
        client.on('error', onError);
        client.on('close', onClose);
      }),
      timeoutMs,
      `connect to ${where}`,
    );
  } catch (err) {
    client.end(true);
    throw new BookrecError('BROKER_UNREACHABLE', `cannot connect to ${where}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    client.off('error', onError);
    client.off('close', onClose);
  }
  // From here on reconnect, so a broker restart during a long publish is survived.
  client.options.reconnectPeriod = options.reconnectPeriod ?? 1000;
  client.on('error', (err) => log.warn('mqtt error', { error: err.message }));
  return {
    ...mqttTransport(client, { timeoutMs }),
    client,
    timeoutMs,
    quietMs: config.broker.quietMs,
    async persist() {
      // Read-only commands have no autosave setting: they never publish what the broker must keep.
      const n = config.broker.autosaveChanges ?? 0;
      if (n <= 0) return;
      // Under devices/+/replies, which deploy may read and nothing publishes retained.
      const base = `${config.prefix}/devices/bookrec-persist-${randomBytes(4).toString('hex')}`;
      const filters = Array.from({ length: n }, (_, i) => `${base}-${i}/replies`);
      await withTimeout(
        Promise.all(filters.map((f) => client.subscribeAsync(f, { qos: 0 }))),
        timeoutMs,
        'persist (subscribe)',
      );
      await withTimeout(client.unsubscribeAsync(filters), timeoutMs, 'persist (unsubscribe)');
    },
    async close() {
      // A clean end waits for messages in flight; one the broker will never acknowledge must not hold it.
      await withTimeout(client.endAsync(), Math.min(timeoutMs, 2000), 'disconnect').catch(() =>
        client.end(true),
      );
    },
  };
}
