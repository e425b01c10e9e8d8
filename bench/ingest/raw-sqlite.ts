import Database from 'better-sqlite3';
import { type IncomingBatch, compactRaw } from 'steppe-collector';

/**
 * The reference the ingest rate is compared with: the same rows — the
 * queryable columns of `measurements` plus the measurement's bytes —
 * inserted with one prepared INSERT into a rowid table with no secondary
 * index, in large transactions, on a file in WAL mode with synchronous=FULL
 * (the store's durability). No verification, no dedup, no rollups: what
 * SQLite itself costs for these rows on this machine. `bytes` chooses the
 * bytes: 'compact' — the form the store keeps (certificates and body
 * prefixes cut out, computed before timing: the stricter reference, since
 * its rows are 4× smaller), or 'signed' — the signed bytes as received.
 */
export class RawSqlite {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;

  readonly #bytes: 'compact' | 'signed';

  constructor(path: string, bytes: 'compact' | 'signed') {
    this.#bytes = bytes;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('cache_size = -65536');
    this.#db.exec(`CREATE TABLE rows (
      seq INTEGER PRIMARY KEY, id BLOB NOT NULL, start_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL, probe_ref INTEGER NOT NULL,
      asn INTEGER NOT NULL, cc TEXT NOT NULL, network_name TEXT NOT NULL, domain TEXT NOT NULL, input TEXT NOT NULL,
      category_code TEXT NOT NULL, test_name TEXT NOT NULL, test_version TEXT NOT NULL, verdict TEXT NOT NULL,
      blocking_type TEXT NOT NULL, anomaly INTEGER NOT NULL, confirmed INTEGER NOT NULL, failure TEXT, raw BLOB NOT NULL)`);
    this.#insert = this.#db.prepare('INSERT INTO rows VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  }

  /** Insert every measurement of `batches`, `perTx` rows per transaction; rows/s spent inside SQLite calls. */
  measure(batches: readonly IncomingBatch[], perTx: number): number {
    const flat = batches.flatMap((b) => b.measurements.map((m) => ({ b, m, bytes: this.#bytes === 'signed' ? m.raw : compactRaw(m.raw).compact })));
    const insertAll = this.#db.transaction((items: typeof flat) => {
      for (const { b, m, bytes } of items) {
        const d = m.decoded;
        const a = d.analysis;
        this.#insert.run(asBuffer(m.id), d.startTimeMs, b.receivedMs, 1, b.network.asn, b.network.cc, b.network.networkName, d.domain, d.input,
          d.categoryCode, d.testName, d.testVersion, a?.verdict ?? '', a?.blockingType ?? '', a?.anomaly ? 1 : 0, a?.confirmed ? 1 : 0,
          a?.failure ? a.failure : null, asBuffer(bytes));
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < flat.length; i += perTx) insertAll.immediate(flat.slice(i, i + perTx));
    return flat.length / ((performance.now() - t0) / 1000);
  }

  close(): void {
    this.#db.close();
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
