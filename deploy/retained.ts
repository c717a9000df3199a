import { BookrecError } from '../common/errors.js';
import { topicMatches } from '../common/protocol/topics.js';
import type { MessageTransport } from '../common/protocol/transport.js';

export interface RetainedOptions {
  /** Done when no matching message came for this long after the subscription was acknowledged. */
  quietMs: number;
  /** Upper bound of the whole read, whatever keeps arriving. */
  timeoutMs: number;
  /** Messages kept at most; more is an error rather than unbounded memory. */
  maxMessages?: number;
}

/**
 * The retained state under topic filters: subscribe, collect until the broker has been quiet for a
 * moment, unsubscribe. MQTT has no "end of retained messages" marker, hence the quiet period. An empty
 * payload is a cleared topic and removes it.
 */
export async function readRetained(
  transport: MessageTransport,
  filter: string | string[],
  options: RetainedOptions,
): Promise<Map<string, Buffer>> {
  const filters = Array.isArray(filter) ? filter : [filter];
  const max = options.maxMessages ?? 100_000;
  const found = new Map<string, Buffer>();
  let lastAt = Date.now();
  let overflow = false;
  const remove = transport.onMessage((topic, payload) => {
    if (!filters.some((f) => topicMatches(f, topic))) return;
    lastAt = Date.now();
    if (payload.length === 0) found.delete(topic);
    else if (found.size < max || found.has(topic)) found.set(topic, payload);
    else overflow = true;
  });
  try {
    await transport.subscribe(filters);
    const started = Date.now();
    lastAt = started;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = Date.now();
        if (now - started >= options.timeoutMs) resolve();
        else if (now - lastAt < options.quietMs) setTimeout(tick, Math.min(50, options.quietMs));
        else {
          // Timers run before the event loop reads sockets: after a busy moment, messages that have
          // already arrived would be missed. setImmediate runs after one read of every socket.
          const seen = lastAt;
          setImmediate(() => (lastAt === seen ? resolve() : setTimeout(tick, Math.min(50, options.quietMs))));
        }
      };
      setTimeout(tick, Math.min(50, options.quietMs));
    });
  } finally {
    remove();
    await transport.unsubscribe(filters).catch(() => undefined);
  }
  if (overflow) {
    throw new BookrecError(
      'TOO_MANY_MESSAGES',
      `more than ${max} retained messages under ${filters.join(', ')}`,
    );
  }
  return found;
}
