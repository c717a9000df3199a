import { createMemoryLogger } from '../common/log.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { Transport } from '../common/protocol/transport.js';
import type { PublishContext } from '../deploy/publisher.js';

/** The operator's publish settings the delivery benchmarks share: no rate limit, 8 chunks in flight. */
export function benchPublishContext(transport: Transport, topics: TopicMap): PublishContext {
  return {
    transport,
    topics,
    log: createMemoryLogger('warn'),
    retained: { quietMs: 50, timeoutMs: 10_000 },
    inFlight: 8,
    maxChunksPerSecond: 0,
  };
}
