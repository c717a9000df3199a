import { pathToFileURL } from 'node:url';
import { DEFAULT_LIMITS } from '../../common/protocol/manifest.js';
import { trustedKeys } from '../../common/protocol/signing.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { type DeviceFailure, type DeviceOutcome, LightDevice, nowMs } from './device.js';
import type { FromWorker, ToWorker, WorkerPlan } from './messages.js';

/**
 * A child process holding a share of the bench's devices: connects them in batches, reports when they
 * are connected, and reports once every device has verified the release or failed (or, when told to
 * finish, which ones are still waiting). Started by pool.ts with an IPC channel.
 */

const send = (message: FromWorker) => process.send?.(message);

export async function runDevices(plan: WorkerPlan, report: (message: FromWorker) => void) {
  const topics = new TopicMap(plan.prefix);
  const keys = trustedKeys(plan.publicKeys);
  const failed: DeviceFailure[] = [];
  let verified = 0;
  let lastVerifiedAt = 0;
  let connected = false;
  const devices: LightDevice[] = [];
  const reportDone = () => {
    const unfinished = devices.filter((d) => !d.done).map((d) => ({ id: d.id, waitingFor: d.waitingFor }));
    report({ type: 'done', verified, lastVerifiedAt, failed, unfinished });
  };
  const onOutcome = (outcome: DeviceOutcome) => {
    if (outcome.ok) {
      verified++;
      lastVerifiedAt = Math.max(lastVerifiedAt, outcome.at);
    } else failed.push(outcome);
    if (connected && verified + failed.length === devices.length) reportDone();
  };
  for (const id of plan.ids) {
    devices.push(
      new LightDevice(
        {
          host: plan.host,
          port: plan.port,
          clientId: id,
          username: id,
          password: plan.password,
          topics,
          channel: plan.channel,
          keys,
          limits: DEFAULT_LIMITS,
          keepaliveSeconds: plan.keepaliveSeconds,
          maxPacketBytes: plan.maxPacketBytes,
          maxChunks: plan.maxChunks,
          connectTimeoutMs: plan.connectTimeoutMs,
        },
        onOutcome,
      ),
    );
  }
  const started = nowMs();
  for (let i = 0; i < devices.length; i += plan.batch) {
    // A refused connection is already an outcome (CONNECT_FAILED); the others go on.
    await Promise.allSettled(devices.slice(i, i + plan.batch).map((d) => d.connect()));
  }
  const connectFailed = [...failed];
  report({
    type: 'connected',
    connected: devices.length - connectFailed.length,
    failed: connectFailed,
    ms: nowMs() - started,
  });
  connected = true;
  const pinger = setInterval(
    () => {
      for (const d of devices) d.ping();
    },
    (plan.keepaliveSeconds * 1000) / 2,
  );
  pinger.unref();
  if (verified + failed.length === devices.length) reportDone();
  return {
    finish: reportDone,
    close: () => {
      clearInterval(pinger);
      for (const d of devices) d.close();
    },
  };
}

// Only as a process of its own (started by pool.ts), never when imported.
if (process.send && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let running: Awaited<ReturnType<typeof runDevices>> | undefined;
  process.on('message', (message: ToWorker) => {
    if (message.type === 'start') {
      runDevices(message.plan, send).then(
        (r) => {
          running = r;
        },
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
    } else if (message.type === 'finish') running?.finish();
  });
  // The bench ends the worker by closing the IPC channel (or by dying): close connections and go.
  process.on('disconnect', () => {
    running?.close();
    setTimeout(() => process.exit(0), 200).unref();
  });
}
