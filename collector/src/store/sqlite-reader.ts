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
  MeasurementRecord,
  MeasurementSource,
  MeasurementWithRaw,
  PageOptions,
  ReanalysisVerdict,
  StoredMeasurement,
} from './store.js';

interface RecordRow {
  seq: number;
  id: Buffer;
  start_ms: number;
  received_ms: number;
  probe_id: string;
  asn: number;
  cc: string;
  network_name: string;
  domain: string;
  input: string;
  category_code: string;
  test_name: string;
  test_version: string;
  verdict: string;
  blocking_type: string;
  anomaly: number;
  confirmed: number;
  failure: string | null;
  fingerprint_id: string | null;
  source: string;
  report_id: string | null;
  ooni_blocking: string | null;
  ooni_accessible: number | null;
}

interface RawRow extends RecordRow {
  raw: Buffer;
}

interface FullRow extends RawRow {
  original: Buffer | null;
  header: Buffer | null;
  signature: Buffer | null;
  sequence: number | null;
  public_key: Buffer | null;
}

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

const RECORD_COLUMNS = `m.seq, m.id, m.start_ms, m.received_ms, p.probe_id, m.asn, m.cc, m.network_name, m.domain, m.input,
  m.category_code, m.test_name, m.test_version, m.verdict, m.blocking_type, m.anomaly, m.confirmed, m.failure,
  m.fingerprint_id, m.source, m.report_id, m.ooni_blocking, m.ooni_accessible`;

const DEFAULT_PAGE = 2_000;

function toRecord(r: RecordRow): MeasurementRecord {
  const source = r.source as MeasurementSource;
  return {
    id: r.id,
    startMs: r.start_ms,
    receivedMs: r.received_ms,
    probeId: r.probe_id,
    asn: r.asn,
    cc: r.cc,
    networkName: r.network_name,
    domain: r.domain,
    input: r.input,
    categoryCode: r.category_code,
    testName: r.test_name,
    testVersion: r.test_version,
    verdict: r.verdict,
    blockingType: r.blocking_type,
    anomaly: r.anomaly === 1,
    confirmed: r.confirmed === 1,
    failure: r.failure,
    fingerprintId: r.fingerprint_id,
    source,
    reportId: r.report_id,
    ooni: source === 'steppe' ? null : { blocking: r.ooni_blocking, accessible: r.ooni_accessible === null ? null : r.ooni_accessible === 1 },
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
  readonly #full: Statement<[Buffer], FullRow>;
  readonly #reanalyses: Statement<[number], ReanalysisRow>;
  readonly #cache: BlobCache;
  readonly #exists: Statement<[Buffer], { one: number }>;

  constructor(db: Database, blobCacheBytes: number) {
    this.#db = db;
    this.#cache = new BlobCache(blobCacheBytes);
    this.#exists = db.prepare('SELECT 1 AS one FROM measurements WHERE id = ?');
    this.#blobById = db.prepare('SELECT data FROM blobs WHERE sha256 = ?');
    this.#full = db.prepare(`SELECT ${RECORD_COLUMNS}, r.raw, r.original, b.header, b.signature, b.sequence, p.public_key
      FROM measurements m JOIN probes p ON p.probe_ref = m.probe_ref JOIN measurement_raw r ON r.seq = m.seq
      LEFT JOIN batches b ON b.batch_ref = m.batch_ref
      WHERE m.id = ?`);
    this.#reanalyses = db.prepare(`SELECT analysed_ms, engine_version, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, analysis
      FROM reanalyses WHERE seq = ? ORDER BY analysed_ms, rowid`);
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
    return restoreRaw(compact, (digest) => {
      const key = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
      const cached = this.#cache.get(key);
      if (cached !== undefined) return cached;
      const row = this.#blobById.get(asBuffer(digest));
      if (row === undefined) return undefined;
      this.#cache.set(key, row.data);
      return row.data;
    });
  }

  #page(filter: MeasurementFilter, withRaw: boolean, order: 'asc' | 'desc', after: { startMs: number; seq: number } | null, limit: number): (RecordRow | RawRow)[] {
    const where = measurementWhere(filter);
    const cmp = order === 'asc' ? '>' : '<';
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const cursorSql = after === null ? '' : ` AND (m.start_ms, m.seq) ${cmp} (?, ?)`;
    const sql = `SELECT ${RECORD_COLUMNS}${withRaw ? ', r.raw' : ''}
      FROM measurements m JOIN probes p ON p.probe_ref = m.probe_ref${withRaw ? ' JOIN measurement_raw r ON r.seq = m.seq' : ''}
      WHERE ${where.sql}${cursorSql}
      ORDER BY m.start_ms ${dir}, m.seq ${dir}
      LIMIT ?`;
    const params: (string | number)[] = [...where.params];
    if (after !== null) params.push(after.startMs, after.seq);
    params.push(limit);
    return this.#prepare(sql).all(...params) as (RecordRow | RawRow)[];
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
      results: shown.map(toRecord),
      nextCursor: more && last !== undefined ? encodeCursor({ order, startMs: last.start_ms, seq: last.seq }) : null,
    };
  }

  *iterate(filter: MeasurementFilter, options: IterateOptions = {}): Generator<MeasurementWithRaw, void, undefined> {
    for (const row of this.#rows(filter, true, options)) {
      const record = toRecord(row) as MeasurementRecord & { raw?: Uint8Array };
      record.raw = this.restore((row as RawRow).raw);
      yield record as MeasurementWithRaw;
    }
  }

  *iterateRecords(filter: MeasurementFilter, options: IterateOptions = {}): Generator<MeasurementRecord, void, undefined> {
    for (const row of this.#rows(filter, false, options)) yield toRecord(row);
  }

  // Keyset pages: each page is one finished statement, so nothing holds the
  // connection (or a read transaction) while the consumer is slow.
  *#rows(filter: MeasurementFilter, withRaw: boolean, options: IterateOptions): Generator<RecordRow | RawRow, void, undefined> {
    const pageSize = checkPageSize(options.pageSize);
    const order = options.order ?? 'asc';
    let after: { startMs: number; seq: number } | null = null;
    for (;;) {
      const rows = this.#page(filter, withRaw, order, after, pageSize);
      yield* rows;
      const last = rows[rows.length - 1];
      if (rows.length < pageSize || last === undefined) return;
      after = { startMs: last.start_ms, seq: last.seq };
    }
  }

  count(filter: MeasurementFilter): number {
    const where = measurementWhere(filter);
    const row = this.#prepare(`SELECT COUNT(*) AS n FROM measurements m WHERE ${where.sql}`).get(...where.params) as { n: number };
    return row.n;
  }

  get(id: Uint8Array): StoredMeasurement | undefined {
    const row = this.#full.get(asBuffer(id));
    if (row === undefined) return undefined;
    const reanalyses: ReanalysisVerdict[] = this.#reanalyses.all(row.seq).map((r) => ({
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
    const proof = row.header !== null && row.signature !== null && row.public_key !== null && row.sequence !== null
      ? { header: row.header, signature: row.signature, publicKey: row.public_key, sequence: row.sequence }
      : null;
    return {
      ...toRecord(row),
      raw: this.restore(row.raw),
      proof,
      reanalyses,
      original: row.original === null ? null : inflateRawSync(row.original),
    };
  }
}
