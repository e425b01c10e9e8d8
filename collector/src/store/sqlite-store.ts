import type Database from 'better-sqlite3';
import { type Clock, InvalidArgumentError, check, systemClock } from '@steppe/shared';
import { migrate, currentVersion } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { DEFAULT_MIN_BLOB_BYTES } from './raw-codec.js';
import { AnalyticsReader } from './sqlite-analytics.js';
import { type DurabilitySettings, SqliteCommits } from './sqlite-commits.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { EventTable } from './sqlite-events.js';
import { MeasurementReader } from './sqlite-reader.js';
import { StoreError } from './store-error.js';
import { InlineWriteChannel, type WriteChannel } from './write-channel.js';
import { WorkerWriteChannel } from './worker-write-channel.js';
import { ownBytes, packBatches, packImports } from './write-job.js';
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
  OutageSpan,
  MeasurementFilter,
  MeasurementPage,
  MeasurementRecord,
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
 * The SQLite store (better-sqlite3, WAL). Reads run on the caller's thread,
 * on a connection of their own: each is a short statement (listings and
 * streams go page by page), and WAL lets them run while a commit is being
 * written. Writes go to the one writing connection, on a worker thread
 * (write-channel.ts): the event loop never waits for a transaction or its
 * fsync, and ingest's group commits keep one transaction for many batches
 * (docs/design/dd-004-storage.md).
 *
 * Durability: `journal_mode = WAL` with `synchronous = FULL` on the writing
 * connection fsyncs the WAL at every commit; a write's promise resolves only
 * after that, so a resolved commit survives power loss — only then may
 * ingest Ack. A writer that fails (or whose thread dies) rejects with
 * STEPPE_ERR_STORAGE.
 *
 * ':memory:' (tests) writes on the caller's thread through the same code,
 * on the one connection: another thread cannot open that database.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #writes: WriteChannel;
  readonly #reader: MeasurementReader;
  readonly #analytics: AnalyticsReader;
  readonly #events: EventTable;
  readonly #probe: Database.Statement<[string], { public_key: Buffer | null }>;
  readonly #ping: Database.Statement<[], { one: number }>;
  #closing: Promise<void> | undefined;

  constructor(db: Database.Database, writes: WriteChannel, options: { clock: Clock; blobCacheBytes: number }) {
    this.#db = db;
    this.#clock = options.clock;
    this.#writes = writes;
    this.#reader = new MeasurementReader(db, options.blobCacheBytes);
    this.#analytics = new AnalyticsReader(db);
    this.#events = new EventTable(db);
    this.#probe = db.prepare('SELECT public_key FROM probes WHERE probe_id = ?');
    this.#ping = db.prepare('SELECT 1 AS one');
  }

  /** How writes run: 'thread' (a worker thread; every file) or 'inline' (':memory:'). */
  get writer(): WriteChannel {
    return this.#writes;
  }

  // ---- ingest -------------------------------------------------------------

  async probeKey(probeId: string): Promise<Uint8Array | undefined> {
    return this.#probe.get(probeId)?.public_key ?? undefined;
  }

  registerProbe(probeId: string, publicKey: Uint8Array, nowMs: number, network: ProbeNetwork): Promise<ProbeRegistration> {
    return this.#writes.run('registerProbe', [probeId, ownBytes(publicKey), nowMs, { asn: network.asn, cc: network.cc, networkName: network.networkName }]);
  }

  touchProbe(probeId: string, nowMs: number, network: ProbeNetwork): Promise<void> {
    return this.#writes.run('touchProbe', [probeId, nowMs, { asn: network.asn, cc: network.cc, networkName: network.networkName }]);
  }

  async commitBatches(batches: readonly IncomingBatch[]): Promise<CommitResult[]> {
    if (batches.length === 0) return [];
    const job = packBatches(batches, this.#writes.buffers);
    const outcomes = await this.#writes.run('commitBatches', [job], [job.bytes.buffer as ArrayBuffer]);
    return batches.map((batch, i): CommitResult => splitIds(batch.measurements.map((m) => m.id), outcomes[i] ?? []));
  }

  async importMeasurements(items: readonly ImportedMeasurement[]): Promise<CommitResult> {
    if (items.length === 0) return { stored: [], duplicates: [] };
    const job = packImports(items, this.#writes.buffers);
    const duplicates = await this.#writes.run('importMeasurements', [job], [job.bytes.buffer as ArrayBuffer]);
    return splitIds(items.map((i) => i.id), duplicates);
  }

  addVerdict(id: Uint8Array, update: AnalysisUpdate, nowMs: number): Promise<boolean> {
    const plain: AnalysisUpdate = {
      verdict: update.verdict,
      blockingType: update.blockingType,
      anomaly: update.anomaly,
      confirmed: update.confirmed,
      failure: update.failure,
      fingerprintId: update.fingerprintId,
      engineVersion: update.engineVersion,
      ...(update.analysis === undefined ? {} : { analysis: ownBytes(update.analysis) }),
    };
    return this.#writes.run('addVerdict', [ownBytes(id), plain, nowMs]);
  }

  // ---- reads --------------------------------------------------------------

  async queryMeasurements(filter: MeasurementFilter, page: PageOptions): Promise<MeasurementPage> {
    return this.#reader.query(filter, page);
  }

  async *iterateMeasurements(filter: MeasurementFilter, options?: IterateOptions): AsyncGenerator<MeasurementWithRaw, void, undefined> {
    yield* this.#reader.iterate(filter, options);
  }

  async *iterateRecords(filter: MeasurementFilter, options?: IterateOptions): AsyncGenerator<MeasurementRecord, void, undefined> {
    yield* this.#reader.iterateRecords(filter, options);
  }

  async countMeasurements(filter: MeasurementFilter): Promise<number> {
    return this.#reader.count(filter);
  }

  async getMeasurement(id: Uint8Array): Promise<StoredMeasurement | undefined> {
    return this.#reader.get(id);
  }

  async rollups(query: RollupQuery): Promise<RollupRow[]> {
    return this.#analytics.rollups(query);
  }

  async episodeInputs(query: EpisodeInputQuery): Promise<EpisodeBucket[]> {
    return this.#analytics.episodeInputs(query);
  }

  async blockedBuckets(query: BlockedBucketQuery): Promise<EpisodeBucket[]> {
    return this.#analytics.blockedBuckets(query);
  }

  async episodeInputsIn(query: EpisodeInputQuery, ranges: readonly EpisodeRange[]): Promise<EpisodeBucket[]> {
    return this.#analytics.episodeInputsIn(query, ranges);
  }

  async anomalyProbeCount(query: AnomalyProbeQuery): Promise<number> {
    return this.#analytics.anomalyProbeCount(query);
  }

  async probeActivity(query: ProbeActivityQuery): Promise<ProbeActivityRow[]> {
    return this.#analytics.probeActivity(query);
  }

  async outageSpans(query: Omit<ProbeActivityQuery, 'grain'>): Promise<OutageSpan[]> {
    return this.#analytics.outageSpans(query);
  }

  async probesPerAsn(query: Omit<ProbeActivityQuery, 'grain'>): Promise<AsnProbeCount[]> {
    return this.#analytics.probesPerAsn(query);
  }

  async probeCounts(activeSinceMs: number): Promise<ProbeCount[]> {
    return this.#analytics.probeCounts(activeSinceMs);
  }

  // ---- events -------------------------------------------------------------

  addEvent(event: EventInput, nowMs: number, origin: StoredEvent['origin']): Promise<StoredEvent> {
    return this.#writes.run('addEvent', [plainEvent(event), nowMs, origin]);
  }

  seedEvents(events: readonly EventInput[], nowMs: number): Promise<number> {
    return this.#writes.run('seedEvents', [events.map(plainEvent), nowMs]);
  }

  updateEvent(id: number, event: EventInput): Promise<StoredEvent | undefined> {
    return this.#writes.run('updateEvent', [id, plainEvent(event)]);
  }

  deleteEvent(id: number): Promise<boolean> {
    return this.#writes.run('deleteEvent', [id]);
  }

  async getEvent(id: number): Promise<StoredEvent | undefined> {
    return this.#events.get(id);
  }

  async listEvents(range?: { readonly since?: number; readonly until?: number }): Promise<StoredEvent[]> {
    return this.#events.list(range);
  }

  // ---- lifecycle ----------------------------------------------------------

  async schemaVersion(): Promise<number> {
    return currentVersion(this.#db);
  }

  async healthy(): Promise<boolean> {
    try {
      return this.#closing === undefined && this.#writes.healthy && this.#db.open && this.#ping.get()?.one === 1;
    } catch {
      return false;
    }
  }

  /** The durability settings in force on the writing connection (for tests and diagnostics). */
  settings(): Promise<DurabilitySettings> {
    return this.#writes.run('settings', []);
  }

  /** The clock the store was opened with. */
  get clock(): Clock {
    return this.#clock;
  }

  /** Finish the writes in flight, then close both connections. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writes.close();
      } finally {
        if (this.#db.open) {
          // ':memory:' wrote on this connection: let SQLite refresh its statistics.
          if (this.#writes.kind === 'inline') this.#db.pragma('optimize');
          this.#db.close();
        }
      }
    })();
    return this.#closing;
  }
}

/** A commit's ids split by the writer's duplicate indexes. */
function splitIds(ids: readonly Uint8Array[], duplicateIndexes: readonly number[]): CommitResult {
  if (duplicateIndexes.length === 0) return { stored: [...ids], duplicates: [] };
  const dup = new Set(duplicateIndexes);
  const stored: Uint8Array[] = [];
  const duplicates: Uint8Array[] = [];
  ids.forEach((id, i) => (dup.has(i) ? duplicates : stored).push(id));
  return { stored, duplicates };
}

/** An event as plain fields (what crosses to the writer thread). */
function plainEvent(e: EventInput): EventInput {
  return { name: e.name, startMs: e.startMs, endMs: e.endMs, timeZone: e.timeZone, description: e.description, sourceUrl: e.sourceUrl };
}

/**
 * Open (creating if needed) a SQLite store at `path` (':memory:' for tests),
 * bring its schema to the latest version, and start its writer thread.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const opts = optionsSchema(options, 'options');
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('openSqliteStore: path must be a file path or ":memory:"');
  const db = openSqliteConnection(path, opts.cacheMiB);
  let writes: WriteChannel | undefined;
  try {
    migrate(db, MIGRATIONS, opts.clock.now());
    db.pragma('optimize = 0x10002');
    if (path === ':memory:') {
      writes = new InlineWriteChannel(new SqliteCommits(db, opts));
    } else {
      // Every write goes through the writer thread from here on.
      db.pragma('query_only = ON');
      writes = await WorkerWriteChannel.open({ path, cacheMiB: opts.cacheMiB, minBlobBytes: opts.minBlobBytes, lateAfterMs: opts.lateAfterMs });
    }
    return new SqliteStore(db, writes, opts);
  } catch (cause) {
    await writes?.close();
    db.close();
    if (cause instanceof StoreError) throw cause;
    throw new StoreError(`cannot prepare database ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
