import Database from 'better-sqlite3';
import { deflateRawSync } from 'node:zlib';
import { type Clock, InvalidArgumentError, type Measurement, bytesEqual, check, systemClock } from '@steppe/shared';
import { migrate, currentVersion } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { DEFAULT_MIN_BLOB_BYTES } from './raw-codec.js';
import { RollupDeltas, type RollupFacts } from './rollup-deltas.js';
import { AnalyticsReader } from './sqlite-analytics.js';
import { EventTable } from './sqlite-events.js';
import { MeasurementReader } from './sqlite-reader.js';
import { MeasurementWriter, type MeasurementRow, asBuffer } from './sqlite-writer.js';
import { StoreError } from './store-error.js';
import type {
  AnalysisUpdate,
  AnomalyProbeQuery,
  BlockedBucketQuery,
  EpisodeRange,
  AsnProbeCount,
  CommitResult,
  EpisodeBucket,
  EpisodeInputQuery,
  EventInput,
  ImportedMeasurement,
  IncomingBatch,
  IterateOptions,
  LateFailureSpan,
  MeasurementFilter,
  MeasurementPage,
  MeasurementRecord,
  MeasurementSource,
  MeasurementWithRaw,
  PageOptions,
  ProbeActivityQuery,
  ProbeActivityRow,
  ProbeCount,
  ProbeNetwork,
  ProbeRegistration,
  RollupQuery,
  RollupRow,
  Store,
  StoredEvent,
  StoredMeasurement,
} from './store.js';

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions {
  /** Time of migrations and probe bookkeeping done by the store itself. */
  readonly clock?: Clock;
  /** Certificate / body-prefix contents at least this long are kept once in `blobs` (default 96). */
  readonly minBlobBytes?: number;
  /**
   * A measurement received more than this after it started waited in an
   * outbox (the probe was offline): counted as late for shutdown detection.
   * Default 10 minutes: a connected probe uploads each measurement as it
   * finishes (seconds; at worst a reconnect backoff of up to 5 minutes), and
   * a probe measuring every 15 minutes shows the last rounds of a shutdown
   * only 15 to 30 minutes late — a 30-minute threshold hid every shutdown
   * shorter than 30 minutes and the last half hour of the longer ones.
   */
  readonly lateAfterMs?: number;
  /** Memory for blob contents while reading (default 32 MiB). */
  readonly blobCacheBytes?: number;
  /** SQLite page cache in MiB (default 64). */
  readonly cacheMiB?: number;
}

const optionsSchema = check.object({
  clock: check.optional((v: unknown) => v as Clock, systemClock),
  minBlobBytes: check.optional(check.integer({ min: 33, max: 1 << 20 }), DEFAULT_MIN_BLOB_BYTES),
  lateAfterMs: check.optional(check.integer({ min: 60_000, max: 30 * 86_400_000 }), 10 * 60_000),
  blobCacheBytes: check.optional(check.integer({ min: 0, max: 4 * 2 ** 30 }), 32 * 2 ** 20),
  cacheMiB: check.optional(check.integer({ min: 1, max: 64 * 1024 }), 64),
});

/**
 * Page size of a new database file. 16 KiB rather than SQLite's 4 KiB: the
 * compact measurement bytes (~1.1 KB a row) fill pages with less slack, the
 * B-trees of the indexes and rollups are shallower, and a large commit
 * writes fewer page images to the WAL: 1.3–1.6× less CPU per measurement at
 * 5,000 per commit, the same for one batch per commit (bench/ingest/
 * RESULTS.md). An existing database keeps its page size (a `VACUUM` after
 * `PRAGMA page_size = 16384` converts it, offline).
 */
const NEW_DATABASE_PAGE_SIZE = 16_384;

/** WAL bytes kept on disk after a checkpoint resets it (SQLite truncates beyond this). */
const JOURNAL_SIZE_LIMIT = 64 * 2 ** 20;

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
  verdict: string;
  blocking_type: string;
  anomaly: number;
  confirmed: number;
  failure: string | null;
}

const HOST = /^[a-z0-9._:[\]-]{1,253}$/;

/**
 * The domain column of a measurement: its own field, else the input URL's
 * host; '' when neither is a plausible host name. It keys rollups and
 * filters, so a probe cannot fill them with arbitrary text (the signed bytes
 * keep whatever it sent).
 */
function domainOf(m: Measurement): string {
  const own = m.domain.toLowerCase();
  if (HOST.test(own)) return own;
  try {
    const host = new URL(m.input).hostname.toLowerCase();
    return HOST.test(host) ? host : '';
  } catch {
    return '';
  }
}

/**
 * The SQLite store (better-sqlite3, WAL). Synchronous by design: every call
 * finishes before it returns, so a returned commit is durable and the event
 * loop is never left with a half-written transaction.
 *
 * Durability: `journal_mode = WAL` with `synchronous = FULL` fsyncs the WAL at
 * every commit, so a commit that returned survives power loss, not only a
 * process crash (NORMAL would only keep the database consistent, possibly
 * losing the last commits, and ingest acks right after a commit returns).
 * The fsync is paid once per transaction, which is why ingest commits several
 * batches together (docs/design/dd-004-storage.md).
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #lateAfterMs: number;
  readonly #writer: MeasurementWriter;
  readonly #reader: MeasurementReader;
  readonly #analytics: AnalyticsReader;
  readonly #events: EventTable;
  readonly #probeRefs = new Map<string, number>();
  readonly #statements: {
    probe: Database.Statement<[string], ProbeRow>;
    insertProbe: Database.Statement;
    touchProbe: Database.Statement;
    insertBatch: Database.Statement;
    current: Database.Statement<[Buffer], CurrentRow>;
    setVerdict: Database.Statement;
    insertReanalysis: Database.Statement;
    ping: Database.Statement<[], { one: number }>;
  };

  constructor(db: Database.Database, options: { clock: Clock; minBlobBytes: number; lateAfterMs: number; blobCacheBytes: number }) {
    this.#db = db;
    this.#clock = options.clock;
    this.#lateAfterMs = options.lateAfterMs;
    this.#writer = new MeasurementWriter(db, options.minBlobBytes);
    this.#reader = new MeasurementReader(db, options.blobCacheBytes);
    this.#analytics = new AnalyticsReader(db);
    this.#events = new EventTable(db);
    this.#statements = {
      probe: db.prepare('SELECT probe_ref, public_key FROM probes WHERE probe_id = ?'),
      insertProbe: db.prepare(`INSERT INTO probes (probe_id, kind, public_key, first_seen_ms, last_seen_ms, last_asn, last_cc, last_network_name)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      touchProbe: db.prepare(`UPDATE probes SET last_seen_ms = MAX(last_seen_ms, ?), last_asn = ?, last_cc = ?, last_network_name = ?
        WHERE probe_id = ?`),
      insertBatch: db.prepare('INSERT INTO batches (probe_ref, sequence, header, signature, received_ms) VALUES (?, ?, ?, ?, ?)'),
      current: db.prepare(`SELECT seq, start_ms, received_ms, probe_ref, asn, cc, domain, category_code, source, verdict, blocking_type,
        anomaly, confirmed, failure FROM measurements WHERE id = ?`),
      setVerdict: db.prepare('UPDATE measurements SET verdict = ?, blocking_type = ?, anomaly = ?, confirmed = ?, failure = ?, fingerprint_id = ? WHERE seq = ?'),
      insertReanalysis: db.prepare(`INSERT INTO reanalyses (seq, analysed_ms, engine_version, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, analysis)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      ping: db.prepare('SELECT 1 AS one'),
    };
  }

  // ---- ingest -------------------------------------------------------------

  probeKey(probeId: string): Uint8Array | undefined {
    const row = this.#statements.probe.get(probeId);
    return row?.public_key ?? undefined;
  }

  registerProbe(probeId: string, publicKey: Uint8Array, nowMs: number, network: ProbeNetwork): ProbeRegistration {
    return this.#db.transaction((): ProbeRegistration => {
      const row = this.#statements.probe.get(probeId);
      if (row !== undefined) {
        if (row.public_key === null || !bytesEqual(row.public_key, publicKey)) return 'conflict';
        this.#statements.touchProbe.run(nowMs, network.asn, network.cc, network.networkName, probeId);
        return 'known';
      }
      const result = this.#statements.insertProbe.run(probeId, 'steppe', asBuffer(publicKey), nowMs, nowMs, network.asn, network.cc, network.networkName);
      this.#probeRefs.set(probeId, Number(result.lastInsertRowid));
      return 'registered';
    }).immediate();
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

  #row(m: Measurement, id: Uint8Array, probeRef: number, receivedMs: number, network: ProbeNetwork, batchRef: number | null, source: MeasurementSource, extra: Pick<MeasurementRow, 'reportId' | 'ooni'>): MeasurementRow {
    const a = m.analysis;
    const failure = a?.failure ?? '';
    const anomaly = a?.anomaly ?? false;
    return {
      id,
      startMs: m.startTimeMs,
      receivedMs,
      probeRef,
      asn: network.asn,
      cc: network.cc,
      networkName: network.networkName,
      domain: domainOf(m),
      input: m.input,
      categoryCode: m.categoryCode,
      testName: m.testName,
      testVersion: m.testVersion,
      verdict: a?.verdict ?? '',
      blockingType: a?.blockingType ?? '',
      anomaly,
      confirmed: a?.confirmed ?? false,
      failure: failure === '' ? null : failure,
      failed: failure !== '' || anomaly,
      fingerprintId: a?.fingerprintId ? a.fingerprintId : null,
      batchRef,
      source,
      ...extra,
    };
  }

  /** Run `body` in one IMMEDIATE transaction; keeps the writer's blob bookkeeping in step. */
  #write<T>(body: () => T): T {
    try {
      const result = this.#db.transaction(body).immediate();
      this.#writer.committed();
      return result;
    } catch (cause) {
      this.#writer.rolledBack();
      if (cause instanceof StoreError || cause instanceof InvalidArgumentError) throw cause;
      throw new StoreError(`commit failed, nothing was stored: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  commitBatches(batches: readonly IncomingBatch[]): CommitResult[] {
    if (batches.length === 0) return [];
    return this.#write(() => {
      const deltas = new RollupDeltas(this.#lateAfterMs);
      const results = batches.map((batch): CommitResult => {
        const probeRef = this.#probeRef(batch.probeId);
        if (probeRef === undefined) throw new StoreError(`probe ${batch.probeId} is not registered; register it before committing its batches`);
        let batchRef: number | null = null;
        const stored: Uint8Array[] = [];
        const duplicates: Uint8Array[] = [];
        for (const m of batch.measurements) {
          if (batchRef === null) {
            // The batch row is written with its first new measurement only: a
            // resent batch of duplicates leaves no trace.
            const exists = this.#reader.exists(m.id);
            if (exists) {
              duplicates.push(m.id);
              continue;
            }
            batchRef = Number(this.#statements.insertBatch.run(probeRef, batch.sequence, asBuffer(batch.header), asBuffer(batch.signature), batch.receivedMs).lastInsertRowid);
          }
          const row = this.#row(m.decoded, m.id, probeRef, batch.receivedMs, batch.network, batchRef, 'steppe', { reportId: null, ooni: null });
          if (this.#writer.insert(row, m.raw, null) === undefined) {
            duplicates.push(m.id);
            continue;
          }
          deltas.add(row, 1);
          stored.push(m.id);
        }
        return { stored, duplicates };
      });
      this.#writer.applyDeltas(deltas);
      return results;
    });
  }

  importMeasurements(items: readonly ImportedMeasurement[]): CommitResult {
    return this.#write(() => {
      const deltas = new RollupDeltas(this.#lateAfterMs);
      const stored: Uint8Array[] = [];
      const duplicates: Uint8Array[] = [];
      for (const item of items) {
        const probeRef = this.#importProbeRef(item.pseudoProbeId, item.source, item.receivedMs, item.network);
        const row = this.#row(item.decoded, item.id, probeRef, item.receivedMs, item.network, null, item.source, { reportId: item.reportId, ooni: item.ooni });
        const original = item.original === undefined ? null : deflateRawSync(item.original);
        if (this.#writer.insert(row, item.raw, original) === undefined) {
          duplicates.push(item.id);
          continue;
        }
        deltas.add(row, 1);
        stored.push(item.id);
      }
      this.#writer.applyDeltas(deltas);
      return { stored, duplicates };
    });
  }

  addVerdict(id: Uint8Array, update: AnalysisUpdate, nowMs: number): boolean {
    return this.#write(() => {
      const cur = this.#statements.current.get(asBuffer(id));
      if (cur === undefined) return false;
      const base = { domain: cur.domain, asn: cur.asn, startMs: cur.start_ms, receivedMs: cur.received_ms, cc: cur.cc, categoryCode: cur.category_code, source: cur.source as MeasurementSource, probeRef: cur.probe_ref };
      const before: RollupFacts = { ...base, verdict: cur.verdict, blockingType: cur.blocking_type, anomaly: cur.anomaly === 1, confirmed: cur.confirmed === 1, failed: cur.failure !== null || cur.anomaly === 1 };
      const after: RollupFacts = { ...base, verdict: update.verdict, blockingType: update.blockingType, anomaly: update.anomaly, confirmed: update.confirmed, failed: update.failure !== null || update.anomaly };
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

  // ---- reads --------------------------------------------------------------

  queryMeasurements(filter: MeasurementFilter, page: PageOptions): MeasurementPage {
    return this.#reader.query(filter, page);
  }

  iterateMeasurements(filter: MeasurementFilter, options?: IterateOptions): Generator<MeasurementWithRaw, void, undefined> {
    return this.#reader.iterate(filter, options);
  }

  iterateRecords(filter: MeasurementFilter, options?: IterateOptions): Generator<MeasurementRecord, void, undefined> {
    return this.#reader.iterateRecords(filter, options);
  }

  countMeasurements(filter: MeasurementFilter): number {
    return this.#reader.count(filter);
  }

  getMeasurement(id: Uint8Array): StoredMeasurement | undefined {
    return this.#reader.get(id);
  }

  rollups(query: RollupQuery): RollupRow[] {
    return this.#analytics.rollups(query);
  }

  episodeInputs(query: EpisodeInputQuery): EpisodeBucket[] {
    return this.#analytics.episodeInputs(query);
  }

  blockedBuckets(query: BlockedBucketQuery): EpisodeBucket[] {
    return this.#analytics.blockedBuckets(query);
  }

  episodeInputsIn(query: EpisodeInputQuery, ranges: readonly EpisodeRange[]): EpisodeBucket[] {
    return this.#analytics.episodeInputsIn(query, ranges);
  }

  anomalyProbeCount(query: AnomalyProbeQuery): number {
    return this.#analytics.anomalyProbeCount(query);
  }

  probeActivity(query: ProbeActivityQuery): ProbeActivityRow[] {
    return this.#analytics.probeActivity(query);
  }

  lateFailureSpans(query: Omit<ProbeActivityQuery, 'grain'>): LateFailureSpan[] {
    return this.#analytics.lateFailureSpans(query);
  }

  probesPerAsn(query: Omit<ProbeActivityQuery, 'grain'>): AsnProbeCount[] {
    return this.#analytics.probesPerAsn(query);
  }

  probeCounts(activeSinceMs: number): ProbeCount[] {
    return this.#analytics.probeCounts(activeSinceMs);
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

  getEvent(id: number): StoredEvent | undefined {
    return this.#events.get(id);
  }

  listEvents(range?: { readonly since?: number; readonly until?: number }): StoredEvent[] {
    return this.#events.list(range);
  }

  // ---- lifecycle ----------------------------------------------------------

  schemaVersion(): number {
    return currentVersion(this.#db);
  }

  healthy(): boolean {
    try {
      return this.#db.open && this.#statements.ping.get()?.one === 1;
    } catch {
      return false;
    }
  }

  /** The durability settings in force on this connection (for tests and /healthz diagnostics). */
  settings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    const journalMode = String(this.#db.pragma('journal_mode', { simple: true }));
    const level = Number(this.#db.pragma('synchronous', { simple: true }));
    const synchronous = (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[level] ?? 'OFF';
    return { journalMode, synchronous };
  }

  /** The clock the store was opened with. */
  get clock(): Clock {
    return this.#clock;
  }

  close(): void {
    if (!this.#db.open) return;
    try {
      this.#db.pragma('optimize');
    } finally {
      this.#db.close();
    }
  }
}

/**
 * Open (creating if needed) a SQLite store at `path` (':memory:' for tests)
 * and bring its schema to the latest version.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const opts = optionsSchema(options, 'options');
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('openSqliteStore: path must be a file path or ":memory:"');
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 5_000 });
  } catch (cause) {
    throw new StoreError(`cannot open database ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  try {
    // Only a file without pages yet takes a page size (before WAL is set).
    if (db.pragma('page_count', { simple: true }) === 0) db.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`cache_size = ${-1024 * opts.cacheMiB}`);
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = OFF'); // referential integrity is kept by this code; checks would cost every insert
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    migrate(db, MIGRATIONS, opts.clock.now());
    db.pragma('optimize = 0x10002');
    return new SqliteStore(db, opts);
  } catch (cause) {
    db.close();
    if (cause instanceof StoreError) throw cause;
    throw new StoreError(`cannot prepare database ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
