import type { Measurement } from '@steppe/shared';

/**
 * The storage interface. The API, timeline, ingest and exports see only this;
 * SQL dialect details stay inside an implementation (SQLite, the embedded
 * default, and PostgreSQL, for several collectors on one database).
 *
 * Every method is asynchronous: PostgreSQL is network I/O, and the SQLite
 * store commits on a worker thread so the event loop never waits for an
 * fsync. A returned promise means what the synchronous call meant before:
 * a resolved `commitBatches` is durable.
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
  /**
   * Its decoded top-level fields and analysis (what a store indexes). Ingest
   * releases `observations` and `control` once validated: `raw` is the record.
   */
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
  probeKey(probeId: string): Promise<Uint8Array | undefined>;
  /**
   * Register a probe's key (trust on first use or after token enrollment).
   * 'conflict' when the id is registered with another key.
   */
  registerProbe(probeId: string, publicKey: Uint8Array, nowMs: number, network: ProbeNetwork): Promise<ProbeRegistration>;
  /** Record that a probe connected (for "last seen", never its address). */
  touchProbe(probeId: string, nowMs: number, network: ProbeNetwork): Promise<void>;
  /**
   * Commit one or more batches in a single durable transaction (WAL, fsync)
   * and return, per batch, which ids were new and which were duplicates.
   * When this returns, the rows survive a crash: only then may ingest Ack.
   */
  commitBatches(batches: readonly IncomingBatch[]): Promise<CommitResult[]>;
}

// ---------------------------------------------------------------------------
// The rest of the store: what the API, timeline, exports and importers call.
// Everything below is dialect-free: plain values in, plain values out. Times
// are Unix milliseconds (UTC); ranges are half-open [since, until).
// ---------------------------------------------------------------------------

/** Where a stored measurement came from. */
export type MeasurementSource = 'steppe' | 'ooni';

/** The sources, in a fixed order. */
export const MEASUREMENT_SOURCES: readonly MeasurementSource[] = ['steppe', 'ooni'];

/**
 * A filter over stored measurements. Every field is optional; list fields
 * match any of their values; fields combine with AND.
 */
export interface MeasurementFilter {
  /** Start time >= since. */
  readonly since?: number;
  /** Start time < until. */
  readonly until?: number;
  /**
   * Only measurements the collector had received before this instant: pins
   * a query so an export or snapshot is reproducible while ingest goes on.
   */
  readonly receivedBefore?: number;
  readonly probeAsns?: readonly number[];
  readonly probeCcs?: readonly string[];
  readonly domains?: readonly string[];
  readonly inputs?: readonly string[];
  readonly categoryCodes?: readonly string[];
  readonly testNames?: readonly string[];
  readonly verdicts?: readonly string[];
  readonly blockingTypes?: readonly string[];
  readonly anomaly?: boolean;
  readonly confirmed?: boolean;
  /** true: some step failed (a failure string is set); false: none did. */
  readonly failed?: boolean;
  /** Exact failure strings of the first failing step. */
  readonly failures?: readonly string[];
  readonly sources?: readonly MeasurementSource[];
}

/** OONI's own analysis of an imported measurement, kept beside Steppe's verdict. */
export interface OoniAnalysis {
  /** OONI's `blocking`: "dns", "tcp_ip", "http-failure", "http-diff", "false", or null when OONI left it null. */
  readonly blocking: string | null;
  readonly accessible: boolean | null;
}

/** The queryable columns of one stored measurement (no observations). */
export interface MeasurementRecord {
  readonly id: Uint8Array;
  readonly startMs: number;
  /** When the collector received it (or imported it). */
  readonly receivedMs: number;
  /** Pseudonymous probe id (for imports: the importer's grouping key, e.g. "ooni:<report id>"). */
  readonly probeId: string;
  /** Network attributes the collector derived (imports: the source's ASN-level claim). */
  readonly asn: number;
  readonly cc: string;
  readonly networkName: string;
  readonly domain: string;
  readonly input: string;
  readonly categoryCode: string;
  readonly testName: string;
  readonly testVersion: string;
  /** The current verdict: the probe's, or the latest re-analysis. */
  readonly verdict: string;
  readonly blockingType: string;
  readonly anomaly: boolean;
  readonly confirmed: boolean;
  readonly failure: string | null;
  readonly fingerprintId: string | null;
  readonly source: MeasurementSource;
  /** Original report id of an imported measurement; null for Steppe's own. */
  readonly reportId: string | null;
  /** OONI's analysis for source 'ooni'; null otherwise. */
  readonly ooni: OoniAnalysis | null;
}

/** A record plus the exact bytes of the encoded measurement. */
export interface MeasurementWithRaw extends MeasurementRecord {
  /** Byte-for-byte what the probe signed (or what the importer encoded). */
  readonly raw: Uint8Array;
}

/** What anyone needs to check a measurement with `verifyMeasurementProof`. */
export interface MeasurementProof {
  /** Encoded BatchHeader exactly as signed. */
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
  /** The probe's raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly sequence: number;
}

/** A later analysis of a stored measurement; observations are never edited. */
export interface AnalysisUpdate {
  readonly verdict: string;
  readonly blockingType: string;
  readonly anomaly: boolean;
  readonly confirmed: boolean;
  readonly failure: string | null;
  readonly fingerprintId: string | null;
  /** Version of the engine that produced it. */
  readonly engineVersion: string;
  /** The encoded steppe.v1.Analysis, when the engine made one. */
  readonly analysis?: Uint8Array;
}

/** A stored re-analysis. */
export interface ReanalysisVerdict extends AnalysisUpdate {
  readonly analysedMs: number;
}

/** One measurement with everything the API shows. */
export interface StoredMeasurement extends MeasurementWithRaw {
  /** null for imports (no probe signature). */
  readonly proof: MeasurementProof | null;
  /** Re-analyses, oldest first (the record's verdict is the latest's). */
  readonly reanalyses: readonly ReanalysisVerdict[];
  /** The source's original record as imported (e.g. OONI JSON bytes), when kept. */
  readonly original: Uint8Array | null;
}

/** One page of a listing. */
export interface MeasurementPage {
  readonly results: readonly MeasurementRecord[];
  /** Opaque; pass back to get the next page. null on the last page. */
  readonly nextCursor: string | null;
}

/** Paging of `queryMeasurements`. */
export interface PageOptions {
  /** From a previous page; a malformed cursor throws InvalidArgumentError. */
  readonly cursor?: string | null;
  /** 1 to 10,000. */
  readonly limit: number;
  /** By start time; 'desc' (newest first) by default. */
  readonly order?: 'asc' | 'desc';
}

/** Options of the streaming iterators. */
export interface IterateOptions {
  /** Rows fetched per round trip (100 to 100,000; default 2,000). */
  readonly pageSize?: number;
  readonly order?: 'asc' | 'desc';
  /**
   * iterateMeasurements only: attach each row's `proof` (MeasurementProof,
   * null for imports), read once per batch. Exports of signed data ask for it.
   */
  readonly withProofs?: boolean;
}

/** One measurement to import without a probe signature (e.g. from OONI). */
export interface ImportedMeasurement {
  readonly id: Uint8Array;
  /** The encoded Steppe Measurement the importer built. */
  readonly raw: Uint8Array;
  readonly decoded: Measurement;
  readonly source: Exclude<MeasurementSource, 'steppe'>;
  /** Groups measurements of one origin (e.g. "ooni:<report id>") for distinct-probe counts. */
  readonly pseudoProbeId: string;
  readonly reportId: string;
  readonly receivedMs: number;
  readonly network: ProbeNetwork;
  readonly ooni: OoniAnalysis;
  /** The source's original record (e.g. the OONI JSON line), kept compressed when given. */
  readonly original?: Uint8Array;
}

/** Time grains kept as rollups. */
export type RollupGrain = '5m' | '1h';
/** Grains a rollup query can bucket by ('1d' sums hourly rollups by UTC day; 'total' does not bucket). */
export type BucketGrain = RollupGrain | '1d' | 'total';

/** Milliseconds of each bucketing grain. */
export const GRAIN_MS: Readonly<Record<Exclude<BucketGrain, 'total'>, number>> = { '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

/** Dimensions a rollup query can group by. */
export type RollupDimension = 'domain' | 'asn' | 'cc' | 'category_code' | 'verdict' | 'blocking_type' | 'source';

/** Filters over the rollup dimensions, shared by every rollup-backed query. */
export interface RollupFilters {
  readonly domains?: readonly string[];
  readonly asns?: readonly number[];
  readonly ccs?: readonly string[];
  readonly categoryCodes?: readonly string[];
  readonly sources?: readonly MeasurementSource[];
}

/** A rollup query: filters over the rollup dimensions and a time range. */
export interface RollupQuery extends RollupFilters {
  readonly since: number;
  readonly until: number;
  readonly grain: BucketGrain;
  readonly groupBy: readonly RollupDimension[];
  readonly verdicts?: readonly string[];
}

/** One aggregated rollup row; dimensions not grouped by are absent. */
export interface RollupRow {
  /** Bucket start; for grain 'total', the query's `since`. */
  readonly bucketMs: number;
  readonly domain?: string;
  readonly asn?: number;
  readonly cc?: string;
  readonly categoryCode?: string;
  readonly verdict?: string;
  readonly blockingType?: string;
  readonly source?: MeasurementSource;
  readonly count: number;
  readonly anomalyCount: number;
  readonly confirmedCount: number;
}

/** Query of `episodeInputs`. */
export interface EpisodeInputQuery extends RollupFilters {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
}

/** Per (domain, ASN, bucket): what episode detection needs, read from rollups. */
export interface EpisodeBucket {
  readonly domain: string;
  readonly asn: number;
  readonly bucketMs: number;
  readonly count: number;
  readonly anomalyCount: number;
  readonly confirmedCount: number;
  /** Anomalous measurements per blocking type. */
  readonly blockingTypes: Readonly<Record<string, number>>;
  /**
   * Opaque keys of the distinct probes that reported an anomaly in this
   * bucket (stable within one store; never shown to users).
   */
  readonly anomalyProbes: readonly number[];
}

/** Query of `blockedBuckets`: episodeInputs' filters and the blocked-bucket rule (timeline/episodes.ts, rule 1). */
export interface BlockedBucketQuery extends EpisodeInputQuery {
  /** A bucket with determined measurements is blocked when anomalies / determined >= this share. */
  readonly minAnomalyShare: number;
}

/** A stretch of buckets of one (domain, ASN): [since, until). */
export interface EpisodeRange {
  readonly domain: string;
  readonly asn: number;
  readonly since: number;
  readonly until: number;
}

/** Query of `anomalyProbeCount`. */
export interface AnomalyProbeQuery {
  readonly domain: string;
  readonly asn: number;
  readonly grain: RollupGrain;
  /** Starts of the buckets (at the grain) whose anomalous probes are counted. */
  readonly bucketStarts: readonly number[];
  readonly sources?: readonly MeasurementSource[];
}

/** Query of `probeActivity`. */
export interface ProbeActivityQuery {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
  readonly asns?: readonly number[];
  readonly sources?: readonly MeasurementSource[];
}

/** test_name of a probe's own connectivity check to its collector and control (probe/src/connectivity/). */
export const CONNECTIVITY_TEST_NAME = 'connectivity';

/**
 * Per (ASN, bucket of measurement start, probe): what shutdown detection
 * reads (docs/design/dd-007-episodes.md). Every count is of measurements
 * of any test, the probe's connectivity checks included.
 */
export interface ProbeActivityRow {
  readonly asn: number;
  readonly bucketMs: number;
  /** Opaque probe key, as in EpisodeBucket.anomalyProbes. */
  readonly probe: number;
  readonly count: number;
  /**
   * Steppe uploads received more than the store's lateAfterMs after they
   * started (they waited in the probe's outbox). Imports are never late:
   * their received time is when they were imported.
   */
  readonly lateCount: number;
  /** Of the late ones, those that failed (a failure or an anomaly). */
  readonly lateFailedCount: number;
  /**
   * Measurements showing the probe was online: no step failed, or a verdict
   * other than undetermined (which needs the control's answer).
   */
  readonly reachedCount: number;
  /** The probe's own connectivity checks (test_name 'connectivity', Steppe uploads only). */
  readonly checkCount: number;
  /** Of those, checks that did not reach their host (collector or control). */
  readonly checkFailedCount: number;
}

/** Where an ASN had signs of an outage: late failed deliveries or failed connectivity checks. */
export interface OutageSpan {
  readonly asn: number;
  readonly firstBucketMs: number;
  readonly lastBucketMs: number;
}

/** Distinct probes that measured from an ASN in a range. */
export interface AsnProbeCount {
  readonly asn: number;
  readonly probes: number;
}

/** Probes per network, never finer than ASN. */
export interface ProbeCount {
  readonly asn: number;
  readonly cc: string;
  readonly networkName: string;
  /** Probes whose last connection came from this network. */
  readonly probes: number;
  /** Of those, probes seen at or after `activeSince`. */
  readonly activeProbes: number;
}

/** A curated annotation, e.g. a summit during which sites were blocked. */
export interface EventInput {
  readonly name: string;
  readonly startMs: number;
  /** null while ongoing or unknown. */
  readonly endMs: number | null;
  /** IANA time zone the event is anchored in, e.g. "Asia/Almaty". */
  readonly timeZone: string;
  readonly description: string;
  readonly sourceUrl: string | null;
}

/** A stored event. */
export interface StoredEvent extends EventInput {
  readonly id: number;
  readonly createdMs: number;
  /** 'seed' (from the events file) or 'admin' (added through the API). */
  readonly origin: 'seed' | 'admin';
}

/** The measurement side of the store: listing, streaming, single lookups, re-analysis, imports. */
export interface MeasurementStore {
  /** One page of records matching `filter`, ordered by start time. */
  queryMeasurements(filter: MeasurementFilter, page: PageOptions): Promise<MeasurementPage>;
  /**
   * Stream every matching measurement with its exact bytes, in pages, never
   * buffering the whole result and never holding the database between pages
   * (ingest goes on while a slow client downloads).
   */
  iterateMeasurements(filter: MeasurementFilter, options?: IterateOptions): AsyncGenerator<MeasurementWithRaw, void, undefined>;
  /** As iterateMeasurements without the bytes (cheaper: CSV of the columns). */
  iterateRecords(filter: MeasurementFilter, options?: IterateOptions): AsyncGenerator<MeasurementRecord, void, undefined>;
  /** How many measurements match (uses the indexes; may scan for unusual filters). */
  countMeasurements(filter: MeasurementFilter): Promise<number>;
  /** One measurement with its proof and re-analyses; undefined when unknown. */
  getMeasurement(id: Uint8Array): Promise<StoredMeasurement | undefined>;
  /**
   * Import measurements that carry no probe signature (OONI), in one
   * transaction; duplicates by id are reported, never stored twice.
   */
  importMeasurements(items: readonly ImportedMeasurement[]): Promise<CommitResult>;
  /**
   * Add a re-analysis verdict: a new row; the measurement's current verdict
   * (and the rollups) move to it. False when the id is unknown.
   */
  addVerdict(id: Uint8Array, update: AnalysisUpdate, nowMs: number): Promise<boolean>;
}

/** The aggregated side: rollups, episode inputs, probe activity. */
export interface AnalyticsStore {
  rollups(query: RollupQuery): Promise<RollupRow[]>;
  episodeInputs(query: EpisodeInputQuery): Promise<EpisodeBucket[]>;
  /**
   * Only the blocked buckets, as episodeInputs' buckets without
   * `anomalyProbes` (empty), ordered by domain, ASN and time: where episode
   * detection starts, a few rows where episodeInputs returns every bucket.
   */
  blockedBuckets(query: BlockedBucketQuery): Promise<EpisodeBucket[]>;
  /** episodeInputs' buckets (without `anomalyProbes`) inside the given ranges only, ordered by domain, ASN and time. */
  episodeInputsIn(query: EpisodeInputQuery, ranges: readonly EpisodeRange[]): Promise<EpisodeBucket[]>;
  /** Distinct probes that reported an anomaly in the given buckets of one (domain, ASN). */
  anomalyProbeCount(query: AnomalyProbeQuery): Promise<number>;
  probeActivity(query: ProbeActivityQuery): Promise<ProbeActivityRow[]>;
  /**
   * Per ASN with late failed deliveries or failed connectivity checks in the
   * range (lateFailedCount > 0 or checkFailedCount > 0), the first and last
   * 5-minute bucket holding them (cheap: where shutdown detection starts).
   */
  outageSpans(query: Omit<ProbeActivityQuery, 'grain'>): Promise<OutageSpan[]>;
  /** Distinct probes that measured from each ASN in the range (grain-independent). */
  probesPerAsn(query: Omit<ProbeActivityQuery, 'grain'>): Promise<AsnProbeCount[]>;
  probeCounts(activeSinceMs: number): Promise<ProbeCount[]>;
}

/** Curated events. */
export interface EventStore {
  addEvent(event: EventInput, nowMs: number, origin: StoredEvent['origin']): Promise<StoredEvent>;
  /** Insert events not yet present (same name and start); returns how many were added. */
  seedEvents(events: readonly EventInput[], nowMs: number): Promise<number>;
  updateEvent(id: number, event: EventInput): Promise<StoredEvent | undefined>;
  deleteEvent(id: number): Promise<boolean>;
  getEvent(id: number): Promise<StoredEvent | undefined>;
  /** Events overlapping [since, until) when given, by start time. */
  listEvents(range?: { readonly since?: number; readonly until?: number }): Promise<StoredEvent[]>;
}

/** The whole store. */
export interface Store extends IngestStore, MeasurementStore, AnalyticsStore, EventStore {
  /** Schema version of the open database. */
  schemaVersion(): Promise<number>;
  /** True when the database answers (for /healthz). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
