import { errorMessage } from '../../common/errors.js';
import type { SignalSourceFactory } from './source.js';

/**
 * signals.mqtt: events on the device's own MQTT topic (devices/<id>/signals), one per message, the same
 * JSON as a JSONL line. Oversized payloads are counted as malformed without being parsed. A signal is
 * acknowledged to the broker only once the history stored it (the listener returns that work), so one
 * that arrived just before a crash is sent again; the history drops the repeat (agent/history.ts).
 */
export const mqttSource: SignalSourceFactory = ({ config, sink, transport, signalsTopic, log }) => {
  if (!config.signals.mqtt) return undefined;
  let remove: (() => void) | undefined;
  const listen = () => {
    remove ??= transport().onMessage((topic, payload) => {
      if (topic !== signalsTopic) return;
      const text = payload.length > config.signals.maxLineBytes ? '' : payload.toString('utf8');
      return sink
        .text(text)
        .catch((err: unknown) => log.error('storing a signal failed', { error: errorMessage(err) }));
    });
  };
  return {
    name: 'mqtt',
    needs: 'broker',
    listen,
    async start() {
      listen();
      await transport().subscribe([signalsTopic]);
    },
    async stop() {
      remove?.();
      remove = undefined;
    },
  };
};
