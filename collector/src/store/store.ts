import type { Measurement } from '@steppe/shared';

/**
 * The storage interface. The API, timeline, ingest and exports see only this;
 * SQL dialect details stay inside an implementation (SQLite now, PostgreSQL
 * for many collectors later).
 *
 * Measurements are append-only facts keyed by their 16-byte id: a second
 * commit of the same id is a duplicate, acknowledged but never stored twice.
 */

/** Network attributes the collector derived from the connecting address (then discarded). */
export interface ProbeNetwork {
  readonly asn: number;
  /** ISO 3166-1 alpha-2, "ZZ" when unknown. */
  readonly cc: string;
  readonly networkName: string;
}

/** One measurement of a batch, as verified by ingest. */
export interface IncomingMeasurement {
  readonly id: Uint8Array;
  /** The exact encoded bytes the probe signed (digest listed in the batch header). */
  readonly raw: Uint8Array;
  readonly decoded: Measurement;
}

/** A verified batch, ready to commit. */
export interface IncomingBatch {
  readonly probeId: string;
  readonly sequence: number;
  /** Encoded BatchHeader and its signature: kept so anyone can verify a measurement later. */
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
  readonly receivedMs: number;
  readonly network: ProbeNetwork;
  readonly measurements: readonly IncomingMeasurement[];
}

/** What a commit did, per measurement id. */
export interface CommitResult {
  readonly stored: Uint8Array[];
  readonly duplicates: Uint8Array[];
}

/** Outcome of registering a probe's key. */
export type ProbeRegistration = 'registered' | 'known' | 'conflict';

/** The part of the store that ingest needs. */
export interface IngestStore {
  /** The registered public key of a probe, if any. */
  probeKey(probeId: string): Uint8Array | undefined;
  /**
   * Register a probe's key (trust on first use or after token enrollment).
   * 'conflict' when the id is registered with another key.
   */
  registerProbe(probeId: string, publicKey: Uint8Array, nowMs: number, network: ProbeNetwork): ProbeRegistration;
  /** Record that a probe connected (for "last seen", never its address). */
  touchProbe(probeId: string, nowMs: number, network: ProbeNetwork): void;
  /**
   * Commit one or more batches in a single durable transaction (WAL, fsync)
   * and return, per batch, which ids were new and which were duplicates.
   * When this returns, the rows survive a crash: only then may ingest Ack.
   */
  commitBatches(batches: readonly IncomingBatch[]): CommitResult[];
}
