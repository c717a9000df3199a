import { errorMessage } from '../../common/errors.js';
import type { SignalSourceFactory } from './source.js';

/**
 * signals.mqtt: events on the device's own MQTT topic (devices/<id>/signals), one per message, the same
 * JSON as a JSONL line. Oversized payloads are counted as malformed without being parsed.
 */
export const mqttSource: SignalSourceFactory = ({ config, sink, transport, signalsTopic, log }) => {
  if (!config.signals.mqtt) return undefined;
  let remove: (() => void) | undefined;
  return {
    name: 'mqtt',
    needs: 'broker',
    async start() {
      remove = transport().onMessage((topic, payload) => {
        if (topic !== signalsTopic) return;
        const text = payload.length > config.signals.maxLineBytes ? '' : payload.toString('utf8');
        sink
          .text(text)
          .catch((err: unknown) => log.error('storing a signal failed', { error: errorMessage(err) }));
      });
      await transport().subscribe([signalsTopic]);
    },
    async stop() {
      remove?.();
      remove = undefined;
    },
  };
};
