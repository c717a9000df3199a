import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReceiverEvent } from '../common/protocol/receiver.js';
import type { ServedModel } from './modelSlot.js';

/**
 * What /metrics exposes (Prometheus text format, prom-client): requests and their latency by route,
 * method, status and the model version that answered; release events of a followed channel; the model
 * in service; and Node's process metrics. Label values come from bounded sets (registered routes,
 * status codes, versions), never from what a client sends.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'bookrec_http_requests_total',
    help: 'HTTP requests answered',
    labelNames: ['route', 'method', 'status', 'model_version'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'bookrec_http_request_duration_seconds',
    help: 'Time from the request to the response, by route and the model version that answered',
    labelNames: ['route', 'method', 'model_version'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly releaseEvents = new Counter({
    name: 'bookrec_release_events_total',
    help: 'Release receiver events of the followed channel (rejected and failed carry a code)',
    labelNames: ['type', 'code'] as const,
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'bookrec_model_info',
    help: 'The model in service (value 1)',
    labelNames: ['name', 'version', 'engine', 'from'] as const,
    registers: [this.registry],
  });
  readonly swaps = new Counter({
    name: 'bookrec_model_swaps_total',
    help: 'Models replaced in service by a newer release',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observe(route: string, method: string, status: number, modelVersion: string, ms: number): void {
    this.requests.inc({ route, method, status: String(status), model_version: modelVersion });
    this.latency.observe({ route, method, model_version: modelVersion }, ms / 1000);
  }

  releaseEvent(e: ReceiverEvent): void {
    if (e.type === 'progress' || e.type === 'retry') return;
    this.releaseEvents.inc({ type: e.type, code: 'code' in e ? e.code : '' });
  }

  modelChanged(served: ServedModel | undefined, swapped: boolean): void {
    this.modelInfo.reset();
    if (served) {
      this.modelInfo.set(
        {
          name: served.name,
          version: versionLabel(served),
          engine: served.model.engine.kind,
          from: served.from,
        },
        1,
      );
    }
    if (swapped) this.swaps.inc();
  }
}

/** The model_version label: the release version, else the package's id. */
export function versionLabel(served: ServedModel | undefined): string {
  if (!served) return 'none';
  return served.version === null ? served.name : String(served.version);
}
