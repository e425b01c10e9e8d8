import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { collectorMetrics } from '../api/metrics.js';

/**
 * Ingest's Prometheus metrics, on the collector's registry (served at
 * GET /metrics by the API) unless another is given (tests pass their own). A
 * metric that already exists on the registry (a second attachIngest in one
 * process) is reused rather than registered twice. Labels never carry a probe
 * id or an address.
 */
export class IngestMetrics {
  readonly registry: Registry;
  /** Batches by outcome: accepted, rejected. */
  readonly batches: Counter<'result'>;
  /** Measurements by outcome: stored, duplicate, rejected. */
  readonly measurements: Counter<'result'>;
  /** Error frames sent, by stable code. */
  readonly errors: Counter<'code'>;
  readonly connections: Gauge;
  /** Seconds one commitBatches call took (one group). */
  readonly commitSeconds: Histogram;
  /** Batches per group commit. */
  readonly groupSize: Histogram;

  constructor(registry: Registry = collectorMetrics) {
    this.registry = registry;
    this.batches = reuse(registry, 'steppe_ingest_batches_total', () => new Counter({ name: 'steppe_ingest_batches_total', help: 'Measurement batches received, by result (accepted, rejected).', labelNames: ['result'], registers: [registry] }));
    this.measurements = reuse(registry, 'steppe_ingest_measurements_total', () => new Counter({ name: 'steppe_ingest_measurements_total', help: 'Measurements received, by result (stored, duplicate, rejected).', labelNames: ['result'], registers: [registry] }));
    this.errors = reuse(registry, 'steppe_ingest_errors_total', () => new Counter({ name: 'steppe_ingest_errors_total', help: 'Error frames sent to probes, by code.', labelNames: ['code'], registers: [registry] }));
    this.connections = reuse(registry, 'steppe_ingest_connections', () => new Gauge({ name: 'steppe_ingest_connections', help: 'Open probe connections.', registers: [registry] }));
    this.commitSeconds = reuse(registry, 'steppe_ingest_commit_seconds', () => new Histogram({ name: 'steppe_ingest_commit_seconds', help: 'Duration of one durable group commit.', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1], registers: [registry] }));
    this.groupSize = reuse(registry, 'steppe_ingest_group_batches', () => new Histogram({ name: 'steppe_ingest_group_batches', help: 'Batches committed per transaction (group commit).', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [registry] }));
  }
}

function reuse<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return existing === undefined ? make() : (existing as T);
}
