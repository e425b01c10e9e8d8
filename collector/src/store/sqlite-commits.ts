import type { Database, Statement } from 'better-sqlite3';
import { deflateRawSync } from 'node:zlib';
import { InvalidArgumentError, bytesEqual } from '@steppe/shared';
import { RollupDeltas, type RollupFacts } from './rollup-deltas.js';
import { EventTable } from './sqlite-events.js';
import { MeasurementWriter, type MeasurementRow, asBuffer } from './sqlite-writer.js';
import { StoreError } from './store-error.js';
import type { AnalysisUpdate, EventInput, MeasurementSource, ProbeNetwork, ProbeRegistration, StoredEvent } from './store.js';
import { type BatchJob, type BatchOutcome, type ImportJob, type MeasurementFacts, measurementAt, spanOf } from './write-job.js';

/** What the write side needs to know besides the connection. */
export interface CommitOptions {
  readonly minBlobBytes: number;
  readonly lateAfterMs: number;
}

interface ProbeRow {
  probe_ref: number;
  public_key: Buffer | null;
}

interface CurrentRow {
  seq: number;
  start_ms: number;
  received_ms: number;
  probe_ref: number;
  asn: number;
  cc: string;
  domain: string;
  category_code: string;
  source: string;
  test_name: string;
  verdict: string;
  blocking_type: string;
  anomaly: number;
  confirmed: number;
  failure: string | null;
}

/** The durability settings in force on a connection. */
export interface DurabilitySettings {
  readonly journalMode: string;
  readonly synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
}

/** The durability settings of a connection. */
export function durabilitySettings(db: Database): DurabilitySettings {
  const journalMode = String(db.pragma('journal_mode', { simple: true }));
  const level = Number(db.pragma('synchronous', { simple: true }));
  const synchronous = (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[level] ?? 'OFF';
  return { journalMode, synchronous };
}

/**
 * Every write of the SQLite store, on the one connection that writes (in the
 * writer thread, or the caller's thread for ':memory:'). Synchronous: each
 * method is one IMMEDIATE transaction that has committed (WAL fsynced, with
 * `synchronous = FULL`) when it returns.
 *
 * Its caches live with the connection, so they need no coordination with
 * the readers: probe refs (probe id → row number; a row number never
 * changes) and the blob digests the writer knows are stored (a blob counts
 * only once the transaction that wrote it committed; a restarted writer
 * starts empty and `INSERT OR IGNORE` covers what it forgot).
 */
export class SqliteCommits {
  readonly #db: Database;
  readonly #lateAfterMs: number;
  readonly #writer: MeasurementWriter;
  readonly #events: EventTable;
  readonly #probeRefs = new Map<string, number>();
  readonly #statements: {
    probe: Statement<[string], ProbeRow>;
    insertProbe: Statement;
    touchProbe: Statement;
    insertBatch: Statement;
    exists: Statement<[Buffer], { one: number }>;
    current: Statement<[Buffer], CurrentRow>;
    setVerdict: Statement;
    insertReanalysis: Statement;
  };

  constructor(db: Database, options: CommitOptions) {
    this.#db = db;
    this.#lateAfterMs = options.lateAfterMs;
    this.#writer = new MeasurementWriter(db, options.minBlobBytes);
    this.#events = new EventTable(db);
    this.#statements = {
      probe: db.prepare('SELECT probe_ref, public_key FROM probes WHERE probe_id = ?'),
      insertProbe: db.prepare(`INSERT INTO probes (probe_id, kind, public_key, first_seen_ms, last_seen_ms, last_asn, last_cc, last_network_name)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      touchProbe: db.prepare(`UPDATE probes SET last_seen_ms = MAX(last_seen_ms, ?), last_asn = ?, last_cc = ?, last_network_name = ?
        WHERE probe_id = ?`),
      insertBatch: db.prepare('INSERT INTO batches (probe_ref, sequence, header, signature, received_ms) VALUES (?, ?, ?, ?, ?)'),
      exists: db.prepare('SELECT 1 AS one FROM measurements WHERE id = ?'),
      current: db.prepare(`SELECT seq, start_ms, received_ms, probe_ref, asn, cc, domain, category_code, source, test_name, verdict, blocking_type,
        anomaly, confirmed, failure FROM measurements WHERE id = ?`),
      setVerdict: db.prepare('UPDATE measurements SET verdict = ?, blocking_type = ?, anomaly = ?, confirmed = ?, failure = ?, fingerprint_id = ? WHERE seq = ?'),
      insertReanalysis: db.prepare(`INSERT INTO reanalyses (seq, analysed_ms, engine_version, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, analysis)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  // ---- probes -------------------------------------------------------------

  registerProbe(probeId: string, publicKey: Uint8Array, nowMs: number, network: ProbeNetwork): ProbeRegistration {
    return this.#write((): ProbeRegistration => {
      const row = this.#statements.probe.get(probeId);
      if (row !== undefined) {
        if (row.public_key === null || !bytesEqual(row.public_key, publicKey)) return 'conflict';
        this.#statements.touchProbe.run(nowMs, network.asn, network.cc, network.networkName, probeId);
        return 'known';
      }
      const result = this.#statements.insertProbe.run(probeId, 'steppe', asBuffer(publicKey), nowMs, nowMs, network.asn, network.cc, network.networkName);
      this.#probeRefs.set(probeId, Number(result.lastInsertRowid));
      return 'registered';
    });
  }

  touchProbe(probeId: string, nowMs: number, network: ProbeNetwork): void {
    this.#statements.touchProbe.run(nowMs, network.asn, network.cc, network.networkName, probeId);
  }

  #probeRef(probeId: string): number | undefined {
    const cached = this.#probeRefs.get(probeId);
    if (cached !== undefined) return cached;
    const row = this.#statements.probe.get(probeId);
    if (row !== undefined) this.#probeRefs.set(probeId, row.probe_ref);
    return row?.probe_ref;
  }

  /** The pseudo-probe of an import origin, created on first use (inside the caller's transaction). */
  #importProbeRef(pseudoProbeId: string, source: MeasurementSource, receivedMs: number, network: ProbeNetwork): number {
    const known = this.#probeRef(pseudoProbeId);
    if (known !== undefined) return known;
    const result = this.#statements.insertProbe.run(pseudoProbeId, source, null, receivedMs, receivedMs, network.asn, network.cc, network.networkName);
    const ref = Number(result.lastInsertRowid);
    this.#probeRefs.set(pseudoProbeId, ref);
    return ref;
  }

  // ---- measurements -------------------------------------------------------

  /** Run `body` in one IMMEDIATE transaction; keeps the writer's blob bookkeeping in step. */
  #write<T>(body: () => T): T {
    try {
      const result = this.#db.transaction(body).immediate();
      this.#writer.committed();
      return result;
    } catch (cause) {
      this.#writer.rolledBack();
      // A probe ref learnt in a rolled-back transaction names a row that is not there.
      this.#probeRefs.clear();
      if (cause instanceof StoreError || cause instanceof InvalidArgumentError) throw cause;
      throw new StoreError(`commit failed, nothing was stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  commitBatches(job: BatchJob): BatchOutcome[] {
    if (job.batches.length === 0) return [];
    const bytes = job.bytes;
    return this.#write(() => {
      const deltas = new RollupDeltas(this.#lateAfterMs);
      let next = 0;
      const outcomes = job.batches.map((batch): BatchOutcome => {
        const first = next;
        next += batch.count;
        const probeRef = this.#probeRef(batch.probeId);
        if (probeRef === undefined) throw new StoreError(`probe ${batch.probeId} is not registered; register it before committing its batches`);
        let batchRef: number | null = null;
        const duplicates: number[] = [];
        for (let index = 0; index < batch.count; index += 1) {
          const m = measurementAt(job, first + index);
          if (batchRef === null) {
            // The batch row is written with its first new measurement only: a
            // resent batch of duplicates leaves no trace.
            if (this.#statements.exists.get(asBuffer(m.id)) !== undefined) {
              duplicates.push(index);
              continue;
            }
            batchRef = Number(this.#statements.insertBatch.run(probeRef, batch.sequence, asBuffer(spanOf(bytes, batch.header)), asBuffer(spanOf(bytes, batch.signature)), batch.receivedMs).lastInsertRowid);
          }
          const row = measurementRow(m.facts, m.id, probeRef, batch.receivedMs, batch.network, batchRef, 'steppe', { reportId: null, ooni: null });
          if (this.#writer.insert(row, m.raw, null) === undefined) {
            duplicates.push(index);
            continue;
          }
          deltas.add(row, 1);
        }
        return duplicates;
      });
      this.#writer.applyDeltas(deltas);
      return outcomes;
    });
  }

  /** Indexes of the items that were already stored. */
  importMeasurements(job: ImportJob): number[] {
    const bytes = job.bytes;
    return this.#write(() => {
      const deltas = new RollupDeltas(this.#lateAfterMs);
      const duplicates: number[] = [];
      job.items.forEach((item, index) => {
        const probeRef = this.#importProbeRef(item.pseudoProbeId, item.source, item.receivedMs, item.network);
        const row = measurementRow(item.facts, spanOf(bytes, item.id), probeRef, item.receivedMs, item.network, null, item.source, { reportId: item.reportId, ooni: item.ooni });
        const original = item.original === null ? null : deflateRawSync(spanOf(bytes, item.original));
        if (this.#writer.insert(row, spanOf(bytes, item.raw), original) === undefined) {
          duplicates.push(index);
          return;
        }
        deltas.add(row, 1);
      });
      this.#writer.applyDeltas(deltas);
      return duplicates;
    });
  }

  addVerdict(id: Uint8Array, update: AnalysisUpdate, nowMs: number): boolean {
    return this.#write(() => {
      const cur = this.#statements.current.get(asBuffer(id));
      if (cur === undefined) return false;
      const base = { domain: cur.domain, asn: cur.asn, startMs: cur.start_ms, receivedMs: cur.received_ms, cc: cur.cc, categoryCode: cur.category_code, source: cur.source as MeasurementSource, testName: cur.test_name, probeRef: cur.probe_ref };
      const before: RollupFacts = { ...base, verdict: cur.verdict, blockingType: cur.blocking_type, anomaly: cur.anomaly === 1, confirmed: cur.confirmed === 1, failed: cur.failure !== null || cur.anomaly === 1, failure: cur.failure };
      const after: RollupFacts = { ...base, verdict: update.verdict, blockingType: update.blockingType, anomaly: update.anomaly, confirmed: update.confirmed, failed: update.failure !== null || update.anomaly, failure: update.failure };
      const deltas = new RollupDeltas(this.#lateAfterMs);
      deltas.add(before, -1);
      deltas.add(after, 1);
      this.#writer.applyDeltas(deltas);
      this.#statements.setVerdict.run(update.verdict, update.blockingType, update.anomaly ? 1 : 0, update.confirmed ? 1 : 0, update.failure, update.fingerprintId, cur.seq);
      this.#statements.insertReanalysis.run(cur.seq, nowMs, update.engineVersion, update.verdict, update.blockingType, update.anomaly ? 1 : 0, update.confirmed ? 1 : 0,
        update.failure, update.fingerprintId, update.analysis === undefined ? null : asBuffer(update.analysis));
      return true;
    });
  }

  // ---- events -------------------------------------------------------------

  addEvent(event: EventInput, nowMs: number, origin: StoredEvent['origin']): StoredEvent {
    return this.#events.add(event, nowMs, origin);
  }

  seedEvents(events: readonly EventInput[], nowMs: number): number {
    return this.#events.seed(events, nowMs);
  }

  updateEvent(id: number, event: EventInput): StoredEvent | undefined {
    return this.#events.update(id, event);
  }

  deleteEvent(id: number): boolean {
    return this.#events.delete(id);
  }

  // ---- lifecycle ----------------------------------------------------------

  settings(): DurabilitySettings {
    return durabilitySettings(this.#db);
  }

  /** Close the connection (after letting SQLite refresh its statistics). */
  close(): void {
    if (!this.#db.open) return;
    try {
      this.#db.pragma('optimize');
    } finally {
      this.#db.close();
    }
  }
}

/** The operations a writer runs, by name: what the thread boundary carries. */
export type WriteOps = Pick<SqliteCommits, 'registerProbe' | 'touchProbe' | 'commitBatches' | 'importMeasurements' | 'addVerdict' | 'addEvent' | 'seedEvents' | 'updateEvent' | 'deleteEvent' | 'settings'>;

/** The name of a write operation. */
export type WriteOp = keyof WriteOps;

/** The operations a thread may be asked to run (anything else is refused). */
export const WRITE_OPS: readonly WriteOp[] = ['registerProbe', 'touchProbe', 'commitBatches', 'importMeasurements', 'addVerdict', 'addEvent', 'seedEvents', 'updateEvent', 'deleteEvent', 'settings'];

function measurementRow(f: MeasurementFacts, id: Uint8Array, probeRef: number, receivedMs: number, network: ProbeNetwork, batchRef: number | null, source: MeasurementSource, extra: Pick<MeasurementRow, 'reportId' | 'ooni'>): MeasurementRow {
  return {
    id,
    startMs: f.startMs,
    receivedMs,
    probeRef,
    asn: network.asn,
    cc: network.cc,
    networkName: network.networkName,
    domain: f.domain,
    input: f.input,
    categoryCode: f.categoryCode,
    testName: f.testName,
    testVersion: f.testVersion,
    verdict: f.verdict,
    blockingType: f.blockingType,
    anomaly: f.anomaly,
    confirmed: f.confirmed,
    failure: f.failure,
    failed: f.failure !== null || f.anomaly,
    fingerprintId: f.fingerprintId,
    batchRef,
    source,
    ...extra,
  };
}
