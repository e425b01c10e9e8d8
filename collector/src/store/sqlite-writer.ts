import type { Database, Statement } from 'better-sqlite3';
import { BlobDigests } from './blob-cache.js';
import { RawCompactor, sha256Of } from './raw-codec.js';
import { type RollupDeltas, type RollupFacts } from './rollup-deltas.js';
import type { MeasurementSource, OoniAnalysis } from './store.js';

/** Bytes as better-sqlite3 binds them, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The columns of one measurement row. */
export interface MeasurementRow extends RollupFacts {
  readonly id: Uint8Array;
  readonly networkName: string;
  readonly input: string;
  readonly testName: string;
  readonly testVersion: string;
  readonly failure: string | null;
  readonly fingerprintId: string | null;
  readonly batchRef: number | null;
  readonly reportId: string | null;
  readonly ooni: OoniAnalysis | null;
  readonly source: MeasurementSource;
}

/**
 * Writes measurement rows, their compact bytes, new blobs and rollup deltas.
 * Every method runs inside the caller's transaction.
 */
export class MeasurementWriter {
  readonly #insertMeasurement: Statement;
  readonly #insertRaw: Statement;
  readonly #insertBlob: Statement;
  readonly #upsert5m: Statement;
  readonly #upsert1h: Statement;
  readonly #prune5m: Statement;
  readonly #prune1h: Statement;
  readonly #upsert1d: Statement;
  readonly #prune1d: Statement;
  readonly #upsertAnomalyProbe: Statement;
  readonly #pruneAnomalyProbe: Statement;
  readonly #upsertActivity: Statement;
  readonly #digests: BlobDigests;
  readonly #compactor: RawCompactor;

  constructor(db: Database, minBlobBytes: number, blobDigestBytes = 16 * 2 ** 20) {
    this.#digests = new BlobDigests(blobDigestBytes);
    const writeBlob = (sha256: Uint8Array, data: Uint8Array): void => {
      this.#insertBlob.run(asBuffer(sha256), asBuffer(data));
    };
    // New blobs are written while cutting, known ones skipped (BlobDigests).
    this.#compactor = new RawCompactor(minBlobBytes, (raw, start, end) => this.#digests.digest(raw, start, end, sha256Of, writeBlob));
    this.#insertMeasurement = db.prepare(`INSERT INTO measurements
      (id, start_ms, received_ms, probe_ref, asn, cc, network_name, domain, input, category_code, test_name, test_version,
       verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, batch_ref, source, report_id, ooni_blocking, ooni_accessible)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO NOTHING`);
    this.#insertRaw = db.prepare('INSERT INTO measurement_raw (seq, raw, original) VALUES (?, ?, ?)');
    this.#insertBlob = db.prepare('INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?, ?)');
    const upsertRollup = (table: string): string => `INSERT INTO ${table}
      (domain, asn, bucket_ms, cc, category_code, source, verdict, blocking_type, n, anomaly_n, confirmed_n)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (domain, asn, bucket_ms, cc, category_code, source, verdict, blocking_type)
      DO UPDATE SET n = n + excluded.n, anomaly_n = anomaly_n + excluded.anomaly_n, confirmed_n = confirmed_n + excluded.confirmed_n`;
    const pruneRollup = (table: string): string => `DELETE FROM ${table}
      WHERE domain = ? AND asn = ? AND bucket_ms = ? AND cc = ? AND category_code = ? AND source = ? AND verdict = ? AND blocking_type = ? AND n <= 0`;
    this.#upsert5m = db.prepare(upsertRollup('rollup_5m'));
    this.#upsert1h = db.prepare(upsertRollup('rollup_1h'));
    this.#prune5m = db.prepare(pruneRollup('rollup_5m'));
    this.#prune1h = db.prepare(pruneRollup('rollup_1h'));
    this.#upsert1d = db.prepare(upsertRollup('rollup_1d'));
    this.#prune1d = db.prepare(pruneRollup('rollup_1d'));
    this.#upsertAnomalyProbe = db.prepare(`INSERT INTO anomaly_probes (domain, asn, bucket_ms, probe_ref, source, n)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (domain, asn, bucket_ms, probe_ref) DO UPDATE SET n = n + excluded.n`);
    this.#pruneAnomalyProbe = db.prepare('DELETE FROM anomaly_probes WHERE domain = ? AND asn = ? AND bucket_ms = ? AND probe_ref = ? AND n <= 0');
    this.#upsertActivity = db.prepare(`INSERT INTO probe_activity (asn, bucket_ms, probe_ref, source, n, late_n, late_failed_n, reached_n, check_n, check_failed_n)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (asn, bucket_ms, probe_ref) DO UPDATE SET n = n + excluded.n, late_n = late_n + excluded.late_n, late_failed_n = late_failed_n + excluded.late_failed_n,
        reached_n = reached_n + excluded.reached_n, check_n = check_n + excluded.check_n, check_failed_n = check_failed_n + excluded.check_failed_n`);
  }

  /**
   * Insert one measurement unless its id is stored already. Returns the new
   * row's seq, or undefined for a duplicate (nothing written).
   */
  insert(row: MeasurementRow, raw: Uint8Array, original: Uint8Array | null): number | undefined {
    const result = this.#insertMeasurement.run(
      asBuffer(row.id), row.startMs, row.receivedMs, row.probeRef, row.asn, row.cc, row.networkName, row.domain, row.input,
      row.categoryCode, row.testName, row.testVersion, row.verdict, row.blockingType, row.anomaly ? 1 : 0, row.confirmed ? 1 : 0,
      row.failure, row.fingerprintId, row.batchRef, row.source, row.reportId, row.ooni?.blocking ?? null,
      row.ooni === null || row.ooni.accessible === null ? null : row.ooni.accessible ? 1 : 0,
    );
    if (result.changes === 0) return undefined;
    const seq = Number(result.lastInsertRowid);
    this.#insertRaw.run(seq, asBuffer(this.#compactor.compact(raw)), original === null ? null : asBuffer(original));
    return seq;
  }

  /** Apply summed rollup changes (negative ones prune emptied rows). */
  applyDeltas(deltas: RollupDeltas): void {
    for (const [map, upsert, prune] of [
      [deltas.fiveMinute, this.#upsert5m, this.#prune5m],
      [deltas.hourly, this.#upsert1h, this.#prune1h],
      [deltas.daily, this.#upsert1d, this.#prune1d],
    ] as const) {
      for (const d of map.values()) {
        if (d.n === 0 && d.anomalyN === 0 && d.confirmedN === 0) continue;
        upsert.run(d.domain, d.asn, d.bucketMs, d.cc, d.categoryCode, d.source, d.verdict, d.blockingType, d.n, d.anomalyN, d.confirmedN);
        if (d.n < 0) prune.run(d.domain, d.asn, d.bucketMs, d.cc, d.categoryCode, d.source, d.verdict, d.blockingType);
      }
    }
    for (const d of deltas.anomalyProbes.values()) {
      if (d.n === 0) continue;
      this.#upsertAnomalyProbe.run(d.domain, d.asn, d.bucketMs, d.probeRef, d.source, d.n);
      if (d.n < 0) this.#pruneAnomalyProbe.run(d.domain, d.asn, d.bucketMs, d.probeRef);
    }
    for (const d of deltas.activity.values()) {
      if (d.n === 0 && d.lateN === 0 && d.lateFailedN === 0 && d.reachedN === 0 && d.checkN === 0 && d.checkFailedN === 0) continue;
      this.#upsertActivity.run(d.asn, d.bucketMs, d.probeRef, d.source, d.n, d.lateN, d.lateFailedN, d.reachedN, d.checkN, d.checkFailedN);
    }
  }

  /** The transaction committed: its blobs are known from now on. */
  committed(): void {
    this.#digests.committed();
  }

  /** The transaction rolled back: its blobs were not written. */
  rolledBack(): void {
    this.#digests.rolledBack();
  }
}
