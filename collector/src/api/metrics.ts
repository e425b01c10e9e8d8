import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The collector's Prometheus registry, served at GET /metrics. Other modules
 * add their own metrics to it, e.g.
 *   new Counter({ name: 'steppe_ingest_measurements_total', help: '...', registers: [collectorMetrics] })
 * Names start with `steppe_`; labels never carry a probe id or an address.
 */
export const collectorMetrics = new Registry();
collectDefaultMetrics({ register: collectorMetrics, prefix: 'steppe_collector_' });

/** Public API requests by route pattern and status class. */
export const apiRequests = new Counter({
  name: 'steppe_api_requests_total',
  help: 'Public API requests answered, by route and status.',
  labelNames: ['route', 'status'] as const,
  registers: [collectorMetrics],
});
