import { check } from '@steppe/shared';

/** Per-probe limits the collector enforces and announces in Welcome. */
export interface IngestLimits {
  /** Largest Frame accepted, bytes (after permessage-deflate inflation). */
  readonly maxFrameBytes: number;
  /** Most measurements in one batch. */
  readonly maxBatchMeasurements: number;
  /** Most batches of one connection submitted but not yet acknowledged. */
  readonly maxInFlight: number;
  /** Sustained batches per second per probe (burst: one second's worth). */
  readonly maxBatchesPerSecond: number;
  /** Sustained frame bytes per second per probe (burst: one second's worth, at least one full frame). */
  readonly maxBytesPerSecond: number;
}

/** Defaults: generous for a volunteer probe, tight enough that one probe cannot starve the others. */
export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  maxFrameBytes: 4 * 1024 * 1024,
  maxBatchMeasurements: 500,
  maxInFlight: 8,
  maxBatchesPerSecond: 50,
  maxBytesPerSecond: 16 * 1024 * 1024,
});

/** Validate partial limits and fill in defaults; errors name the field. */
export function resolveIngestLimits(partial: Partial<IngestLimits> = {}, field = 'limits'): IngestLimits {
  const int = (min: number, max: number) => check.optional(check.integer({ min, max }), undefined);
  const v = {
    maxFrameBytes: int(1024, 256 * 1024 * 1024)(partial.maxFrameBytes, `${field}.maxFrameBytes`) ?? DEFAULT_INGEST_LIMITS.maxFrameBytes,
    maxBatchMeasurements: int(1, 100_000)(partial.maxBatchMeasurements, `${field}.maxBatchMeasurements`) ?? DEFAULT_INGEST_LIMITS.maxBatchMeasurements,
    maxInFlight: int(1, 1024)(partial.maxInFlight, `${field}.maxInFlight`) ?? DEFAULT_INGEST_LIMITS.maxInFlight,
    maxBatchesPerSecond: int(1, 1_000_000)(partial.maxBatchesPerSecond, `${field}.maxBatchesPerSecond`) ?? DEFAULT_INGEST_LIMITS.maxBatchesPerSecond,
    maxBytesPerSecond: int(1024, Number.MAX_SAFE_INTEGER)(partial.maxBytesPerSecond, `${field}.maxBytesPerSecond`) ?? DEFAULT_INGEST_LIMITS.maxBytesPerSecond,
  };
  return Object.freeze(v);
}
