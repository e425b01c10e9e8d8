import type { Database, Statement } from 'better-sqlite3';
import { inflateRawSync } from 'node:zlib';
import { InvalidArgumentError } from '@steppe/shared';
import { BlobCache } from './blob-cache.js';
import { restoreRaw } from './raw-codec.js';
import { decodeCursor, encodeCursor, measurementWhere } from './sqlite-filter.js';
import { asBuffer } from './sqlite-writer.js';
import type {
  IterateOptions,
  MeasurementFilter,
  MeasurementPage,
  MeasurementProof,
  MeasurementRecord,
  MeasurementSource,
  MeasurementWithRaw,
  PageOptions,
  ReanalysisVerdict,
  StoredMeasurement,
} from './store.js';

interface ReanalysisRow {
  analysed_ms: number;
  engine_version: string;
  verdict: string;
  blocking_type: string;
  anomaly: number;
  confirmed: number;
  failure: string | null;
  fingerprint_id: string | null;
  analysis: Buffer | null;
}

/**
 * The columns of listings, streams and single lookups, read as arrays
 * (statements in raw mode): the measurement's queryable columns (probe ids
 * come from a cache by probe_ref, not a join), then batch_ref, and raw when
 * asked.
 */
const PAGE_COLUMNS = `m.seq, m.id, m.start_ms, m.received_ms, m.probe_ref, m.asn, m.cc, m.network_name, m.domain, m.input,
  m.category_code, m.test_name, m.test_version, m.verdict, m.blocking_type, m.anomaly, m.confirmed, m.failure,
  m.fingerprint_id, m.source, m.report_id, m.ooni_blocking, m.ooni_accessible, m.batch_ref`;

type RecordArray = [
  seq: number, id: Buffer, startMs: number, receivedMs: number, probeRef: number, asn: number, cc: string, networkName: string,
  domain: string, input: string, categoryCode: string, testName: string, testVersion: string, verdict: string, blockingType: string,
  anomaly: number, confirmed: number, failure: string | null, fingerprintId: string | null, source: string, reportId: string | null,
  ooniBlocking: string | null, ooniAccessible: number | null, batchRef: number | null, raw?: Buffer,
];

/** A single lookup: the listing columns, the raw form, and what the full view adds. */
type FullArray = [...Required<RecordArray>, original: Buffer | null, header: Buffer | null, signature: Buffer | null, sequence: number | null, publicKey: Buffer | null];

const COL_SEQ = 0;
const COL_START = 2;
const COL_PROBE = 4;
const COL_BATCH = 23;
const COL_RAW = 24;

const DEFAULT_PAGE = 2_000;
/** Batches whose proof an iteration keeps: rows in start-time order interleave the batches of every probe. */
const PROOF_CACHE_BATCHES = 8_192;

// Row objects are built here from arrays: better-sqlite3's object rows set
// each of 23 properties through the V8 API, several times the cost of a literal.
function arrayToRecord(r: RecordArray | FullArray, probeId: string): MeasurementRecord {
  const source = r[19] as MeasurementSource;
  return {
    id: r[1],
    startMs: r[2],
    receivedMs: r[3],
    probeId,
    asn: r[5],
    cc: r[6],
    networkName: r[7],
    domain: r[8],
    input: r[9],
    categoryCode: r[10],
    testName: r[11],
    testVersion: r[12],
    verdict: r[13],
    blockingType: r[14],
    anomaly: r[15] === 1,
    confirmed: r[16] === 1,
    failure: r[17],
    fingerprintId: r[18],
    source,
    reportId: r[20],
    ooni: source === 'steppe' ? null : { blocking: r[21], accessible: r[22] === null ? null : r[22] === 1 },
  };
}

function checkPageSize(value: number | undefined): number {
  const size = value ?? DEFAULT_PAGE;
  if (!Number.isInteger(size) || size < 100 || size > 100_000) throw new InvalidArgumentError(`pageSize: expected an integer from 100 to 100000, got ${size}`);
  return size;
}

/** Reads measurements: pages, streams, single lookups, with bytes restored from blobs. */
export class MeasurementReader {
  readonly #db: Database;
  readonly #statements = new Map<string, Statement>();
  readonly #blobById: Statement<[Buffer], { data: Buffer }>;
  readonly #full: Statement<[Buffer], unknown[]>;
  readonly #reanalyses: Statement<[number], ReanalysisRow>;
  readonly #cache: BlobCache;
  readonly #probeKeys = new Map<number, Buffer>();
  readonly #probeIds = new Map<number, string>();
  readonly #hotBlobs = new Map<number, { readonly digest: Buffer; readonly data: Uint8Array }>();
  readonly #probeIdByRef: Statement<[number], { probe_id: string }>;
  readonly #exists: Statement<[Buffer], { one: number }>;
  readonly #batch: Statement<[number], { header: Buffer; signature: Buffer; sequence: number }>;
  readonly #probeKey: Statement<[number], { public_key: Buffer | null }>;

  constructor(db: Database, blobCacheBytes: number) {
    this.#db = db;
    this.#cache = new BlobCache(blobCacheBytes);
    this.#exists = db.prepare('SELECT 1 AS one FROM measurements WHERE id = ?');
    this.#blobById = db.prepare('SELECT data FROM blobs WHERE sha256 = ?');
    this.#full = db.prepare<[Buffer], unknown[]>(`SELECT ${PAGE_COLUMNS}, r.raw, r.original, b.header, b.signature, b.sequence, p.public_key
      FROM measurements m JOIN probes p ON p.probe_ref = m.probe_ref JOIN measurement_raw r ON r.seq = m.seq
      LEFT JOIN batches b ON b.batch_ref = m.batch_ref
      WHERE m.id = ?`).raw(true);
    this.#reanalyses = db.prepare(`SELECT analysed_ms, engine_version, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, analysis
      FROM reanalyses WHERE seq = ? ORDER BY analysed_ms, rowid`);
    this.#batch = db.prepare('SELECT header, signature, sequence FROM batches WHERE batch_ref = ?');
    this.#probeKey = db.prepare('SELECT public_key FROM probes WHERE probe_ref = ?');
    this.#probeIdByRef = db.prepare('SELECT probe_id FROM probes WHERE probe_ref = ?');
  }

  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size > 256) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** True when a measurement with this id is stored. */
  exists(id: Uint8Array): boolean {
    return this.#exists.get(asBuffer(id)) !== undefined;
  }

  /** The exact bytes from a stored compact form. */
  restore(compact: Buffer): Uint8Array {
    return restoreRaw(compact, this.#blobOf);
  }

  // The few hot blobs by the first 48 bits of their digest (a number key: no
  // hex string per reference), checked against the whole digest; the rest
  // through the byte-bounded cache.
  readonly #blobOf = (digest: Uint8Array): Uint8Array | undefined => {
    const d = asBuffer(digest);
    const short = d.length >= 6 ? d.readUIntLE(0, 6) : -1;
    const hot = this.#hotBlobs.get(short);
    if (hot !== undefined && hot.digest.equals(d)) return hot.data;
    const key = d.toString('hex');
    let data: Uint8Array | undefined = this.#cache.get(key);
    if (data === undefined) {
      const row = this.#blobById.get(d);
      if (row === undefined) return undefined;
      data = row.data;
      this.#cache.set(key, data);
    }
    if (this.#hotBlobs.size >= 1024) this.#hotBlobs.clear();
    this.#hotBlobs.set(short, { digest: Buffer.from(d), data });
    return data;
  };

  #page(filter: MeasurementFilter, withRaw: boolean, order: 'asc' | 'desc', after: { startMs: number; seq: number } | null, limit: number): RecordArray[] {
    const where = measurementWhere(filter);
    const cmp = order === 'asc' ? '>' : '<';
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const cursorSql = after === null ? '' : ` AND (m.start_ms, m.seq) ${cmp} (?, ?)`;
    const sql = `SELECT ${PAGE_COLUMNS}${withRaw ? ', r.raw' : ''}
      FROM measurements m${withRaw ? ' JOIN measurement_raw r ON r.seq = m.seq' : ''}
      WHERE ${where.sql}${cursorSql}
      ORDER BY m.start_ms ${dir}, m.seq ${dir}
      LIMIT ?`;
    const params: (string | number)[] = [...where.params];
    if (after !== null) params.push(after.startMs, after.seq);
    params.push(limit);
    let statement = this.#statements.get(`raw:${sql}`);
    if (statement === undefined) {
      statement = this.#prepare(sql).raw(true);
      this.#statements.set(`raw:${sql}`, statement);
    }
    return statement.all(...params) as RecordArray[];
  }

  query(filter: MeasurementFilter, page: PageOptions): MeasurementPage {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 10_000) {
      throw new InvalidArgumentError(`limit: expected an integer from 1 to 10000, got ${page.limit}`);
    }
    const order = page.order ?? 'desc';
    const after = page.cursor === undefined || page.cursor === null ? null : decodeCursor(page.cursor, order);
    const rows = this.#page(filter, false, order, after, page.limit + 1);
    const more = rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const last = shown[shown.length - 1];
    return {
      results: shown.map((r) => arrayToRecord(r, this.#probeId(r[COL_PROBE]))),
      nextCursor: more && last !== undefined ? encodeCursor({ order, startMs: last[COL_START], seq: last[COL_SEQ] }) : null,
    };
  }

  *iterate(filter: MeasurementFilter, options: IterateOptions = {}): Generator<MeasurementWithRaw & { proof?: MeasurementProof | null }, void, undefined> {
    // Proofs by batch: rows of one batch share one proof object, looked up once.
    const proofs = options.withProofs === true ? new Map<number, MeasurementProof | null>() : undefined;
    for (const row of this.#rows(filter, true, options)) {
      const record = arrayToRecord(row, this.#probeId(row[COL_PROBE])) as MeasurementRecord & { raw?: Uint8Array; proof?: MeasurementProof | null };
      const raw = row[COL_RAW];
      if (raw === undefined) throw new RangeError('measurement row without its bytes');
      record.raw = this.restore(raw);
      if (proofs !== undefined) record.proof = this.#proof(proofs, row[COL_BATCH], row[COL_PROBE]);
      yield record as MeasurementWithRaw;
    }
  }

  /** A probe's id by its row number (ids never change; a few hundred probes). */
  #probeId(probeRef: number): string {
    let id = this.#probeIds.get(probeRef);
    if (id === undefined) {
      id = this.#probeIdByRef.get(probeRef)?.probe_id ?? '';
      if (this.#probeIds.size >= 65_536) this.#probeIds.clear();
      this.#probeIds.set(probeRef, id);
    }
    return id;
  }

  /** The proof of a batch (null for rows without one), from an iteration's cache. */
  #proof(cache: Map<number, MeasurementProof | null>, batchRef: number | null, probeRef: number): MeasurementProof | null {
    if (batchRef === null) return null;
    let proof = cache.get(batchRef);
    if (proof === undefined) {
      const batch = this.#batch.get(batchRef);
      const key = this.#probeKeys.get(probeRef) ?? this.#probeKey.get(probeRef)?.public_key ?? null;
      if (key !== null) {
        if (this.#probeKeys.size >= 65_536) this.#probeKeys.clear();
        this.#probeKeys.set(probeRef, key);
      }
      proof = batch === undefined || key === null ? null : { header: batch.header, signature: batch.signature, publicKey: key, sequence: batch.sequence };
      if (cache.size >= PROOF_CACHE_BATCHES) cache.clear();
      cache.set(batchRef, proof);
    }
    return proof;
  }

  *iterateRecords(filter: MeasurementFilter, options: IterateOptions = {}): Generator<MeasurementRecord, void, undefined> {
    for (const row of this.#rows(filter, false, options)) yield arrayToRecord(row, this.#probeId(row[COL_PROBE]));
  }

  // Keyset pages: each page is one finished statement, so nothing holds the
  // connection (or a read transaction) while the consumer is slow.
  *#rows(filter: MeasurementFilter, withRaw: boolean, options: IterateOptions): Generator<RecordArray, void, undefined> {
    const pageSize = checkPageSize(options.pageSize);
    const order = options.order ?? 'asc';
    let after: { startMs: number; seq: number } | null = null;
    for (;;) {
      const rows = this.#page(filter, withRaw, order, after, pageSize);
      yield* rows;
      const last = rows[rows.length - 1];
      if (rows.length < pageSize || last === undefined) return;
      after = { startMs: last[COL_START], seq: last[COL_SEQ] };
    }
  }

  count(filter: MeasurementFilter): number {
    const where = measurementWhere(filter);
    const row = this.#prepare(`SELECT COUNT(*) AS n FROM measurements m WHERE ${where.sql}`).get(...where.params) as { n: number };
    return row.n;
  }

  get(id: Uint8Array): StoredMeasurement | undefined {
    const row = this.#full.get(asBuffer(id)) as FullArray | undefined;
    if (row === undefined) return undefined;
    const [raw, original, header, signature, sequence, publicKey] = [row[COL_RAW], row[25], row[26], row[27], row[28], row[29]];
    const reanalyses: ReanalysisVerdict[] = this.#reanalyses.all(row[COL_SEQ]).map((r) => ({
      analysedMs: r.analysed_ms,
      engineVersion: r.engine_version,
      verdict: r.verdict,
      blockingType: r.blocking_type,
      anomaly: r.anomaly === 1,
      confirmed: r.confirmed === 1,
      failure: r.failure,
      fingerprintId: r.fingerprint_id,
      ...(r.analysis === null ? {} : { analysis: r.analysis }),
    }));
    const proof = header !== null && signature !== null && publicKey !== null && sequence !== null ? { header, signature, publicKey, sequence } : null;
    return {
      ...arrayToRecord(row, this.#probeId(row[COL_PROBE])),
      raw: this.restore(raw),
      proof,
      reanalyses,
      original: original === null ? null : inflateRawSync(original),
    };
  }
}
