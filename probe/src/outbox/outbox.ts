import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Clock, ID_BYTES, InvalidArgumentError, SteppeError, applyMigrations, check, systemClock } from '@steppe/shared';
import { DATA_FILE_MODE, ensurePrivateFile, restrictMode } from '../data-dir/file-modes.js';
import { OUTBOX_MIGRATIONS } from './outbox-migrations.js';

/** Options of {@link Outbox.open}. */
export interface OutboxOptions {
  /** Cap on the total bytes of queued measurements; oldest dropped beyond it. Default 512 MiB. */
  readonly maxBytes?: number;
  /**
   * Cap on how long a measurement may wait in the outbox (time since it was
   * queued, by `clock`). Default 90 days. Measured from queueing, not from the
   * measurement's start, so a lab replaying an old day loses nothing.
   */
  readonly maxAgeMs?: number;
  readonly clock?: Clock;
}

/** Metadata stored beside a measurement's bytes. */
export interface OutboxMeta {
  /** The measurement's 16-byte id (UUIDv7): the key the collector acks. */
  readonly id: Uint8Array;
  /** Measurement start, Unix ms: delivery order. */
  readonly startTimeMs: number;
}

/** One queued measurement. */
export interface OutboxItem {
  readonly id: Uint8Array;
  readonly startTimeMs: number;
  readonly bytes: Uint8Array;
}

/** What `status` shows about the outbox. */
export interface OutboxStats {
  readonly count: number;
  readonly bytes: number;
  /** Start time of the oldest queued measurement, or undefined when empty. */
  readonly oldestStartTimeMs: number | undefined;
  /** Measurements dropped by the size/age cap since the outbox was created. */
  readonly dropped: number;
  readonly droppedBytes: number;
  /** Measurements set aside because the collector rejected them as invalid. */
  readonly quarantined: number;
  /** When an Ack last removed rows, or undefined if never. */
  readonly lastUploadMs: number | undefined;
}

/** Emitted (event `dropped`) whenever the cap removes measurements. */
export interface OutboxDropEvent {
  readonly count: number;
  readonly bytes: number;
  readonly reason: 'max_bytes' | 'max_age';
  /** Start time of the newest measurement dropped. */
  readonly newestDroppedStartTimeMs: number;
}

/** Events of an Outbox; the CLI logs them (libraries don't print). */
export interface OutboxEvents {
  dropped: [OutboxDropEvent];
}

const SEQUENCE_BLOCK = 1024;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const DEFAULT_MAX_AGE_MS = 90 * 24 * 3600 * 1000;

type Row = { id: Buffer; start_time_ms: number; bytes: Buffer };
type OrderRow = { id: Buffer; start_time_ms: number; size: number };
type TotalsRow = { row_count: number; byte_count: number; quarantined_count: number };
type AgedRow = { count: number; bytes: number; newest: number | null };

/** The SQLite files of one outbox: the database, its write-ahead log and shared-memory index. */
const SQLITE_SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * The probe's durable queue of finished measurements (SQLite, WAL,
 * synchronous=FULL). A measurement is committed here before anything else
 * happens with it, and its row is deleted only when a collector's Ack names
 * its id. When the size or age cap is exceeded the oldest measurements are
 * dropped, counted in a persisted counter and announced with a `dropped`
 * event: never silently.
 *
 * Several processes may share one outbox (the daemon and a `measure
 * --collector` run): each sends what is queued, the collector deduplicates by
 * id, and whichever Ack arrives first deletes the row.
 *
 * The schema is versioned (`PRAGMA user_version`, outbox-migrations.ts) and
 * brought forward on open; the files are private to the operator (0600).
 */
export class Outbox extends EventEmitter<OutboxEvents> {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #insert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #totals: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #order: Database.Statement;
  readonly #orderQuarantined: Database.Statement;
  readonly #get: Database.Statement;
  readonly #quarantine: Database.Statement;
  readonly #aged: Database.Statement;
  readonly #deleteAged: Database.Statement;
  readonly #getCounter: Database.Statement;
  readonly #addCounter: Database.Statement;
  readonly #setCounter: Database.Statement;
  #closed = false;
  #seqNext = 0;
  #seqLimit = 0;

  private constructor(path: string, db: Database.Database, options: OutboxOptions) {
    super();
    this.path = path;
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    // Every statement is prepared once, here.
    this.#insert = db.prepare('INSERT OR IGNORE INTO outbox (id, start_time_ms, enqueued_ms, size, bytes) VALUES (?, ?, ?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.#totals = db.prepare('SELECT row_count, byte_count, quarantined_count FROM outbox_totals WHERE singleton = 1');
    this.#oldest = db.prepare('SELECT MIN(start_time_ms) FROM outbox').pluck();
    this.#order = db.prepare('SELECT id, start_time_ms, size FROM outbox WHERE quarantined IS NULL ORDER BY start_time_ms, id');
    this.#orderQuarantined = db.prepare('SELECT id, start_time_ms, size FROM outbox WHERE quarantined IS NOT NULL ORDER BY start_time_ms, id');
    this.#get = db.prepare('SELECT id, start_time_ms, bytes FROM outbox WHERE id = ?');
    this.#quarantine = db.prepare('UPDATE outbox SET quarantined = ? WHERE id = ? AND quarantined IS NULL');
    this.#aged = db.prepare('SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes, MAX(start_time_ms) AS newest FROM outbox WHERE enqueued_ms < ?');
    this.#deleteAged = db.prepare('DELETE FROM outbox WHERE enqueued_ms < ?');
    this.#getCounter = db.prepare('SELECT value FROM outbox_counters WHERE name = ?').pluck();
    this.#addCounter = db.prepare('INSERT INTO outbox_counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value');
    this.#setCounter = db.prepare('INSERT INTO outbox_counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
  }

  /**
   * Open (or create) the outbox database at `path`. Throws SteppeError
   * STEPPE_ERR_OUTBOX when the file cannot be opened, and
   * STEPPE_ERR_INVALID_ARGUMENT for bad options.
   */
  static open(path: string, options: OutboxOptions = {}): Outbox {
    check.string({ min: 1, describe: 'a file path' })(path, 'path');
    if (options.maxBytes !== undefined) check.integer({ min: 1024, max: Number.MAX_SAFE_INTEGER })(options.maxBytes, 'maxBytes');
    if (options.maxAgeMs !== undefined) check.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })(options.maxAgeMs, 'maxAgeMs');
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Private before SQLite opens it: SQLite gives the -wal and -shm files
      // the database file's mode. Older versions left it 0644: repaired here.
      ensurePrivateFile(path);
      for (const suffix of SQLITE_SUFFIXES) restrictMode(`${path}${suffix}`, DATA_FILE_MODE);
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk before enqueue() returns, not just in the WAL
      // buffer, so "committed before anything else happens" survives power loss.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      applyMigrations(db, OUTBOX_MIGRATIONS, { nowMs: (options.clock ?? systemClock).now(), software: 'probe', fail: (message) => new SteppeError('STEPPE_ERR_OUTBOX', message) });
    } catch (cause) {
      db?.close();
      if (cause instanceof SteppeError) throw new SteppeError(cause.code, `outbox ${path}: ${cause.message}`, { cause });
      throw new SteppeError('STEPPE_ERR_OUTBOX', `cannot open outbox ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    const outbox = new Outbox(path, db, options);
    return outbox;
  }

  /**
   * Commit one measurement's encoded bytes. Returns when the row is durable.
   * Enqueueing an id that is already queued is a no-op (false).
   */
  enqueue(measurementBytes: Uint8Array, meta: OutboxMeta): boolean {
    return this.enqueueMany([{ bytes: measurementBytes, id: meta.id, startTimeMs: meta.startTimeMs }]) === 1;
  }

  /** Commit several measurements in one transaction; returns how many were new. */
  enqueueMany(items: readonly OutboxItem[]): number {
    this.#assertOpen();
    for (const [i, item] of items.entries()) {
      if (!(item.bytes instanceof Uint8Array) || item.bytes.length === 0) throw new InvalidArgumentError(`outbox item ${i}: bytes must be a non-empty Uint8Array`);
      if (!(item.id instanceof Uint8Array) || item.id.length !== ID_BYTES) throw new InvalidArgumentError(`outbox item ${i}: id must be ${ID_BYTES} bytes`);
      if (!Number.isSafeInteger(item.startTimeMs) || item.startTimeMs <= 0) throw new InvalidArgumentError(`outbox item ${i}: startTimeMs must be a positive integer`);
    }
    const now = this.#clock.now();
    let added = 0;
    const drops: OutboxDropEvent[] = [];
    this.#write(() => {
      for (const item of items) {
        const r = this.#insert.run(toBuffer(item.id), item.startTimeMs, now, item.bytes.length, toBuffer(item.bytes));
        added += r.changes;
      }
      drops.push(...this.#enforceCaps(now));
    });
    for (const d of drops) this.emit('dropped', d);
    return added;
  }

  /**
   * The next measurements to send, in measurement-time order, skipping ids
   * for which `skip` returns true (already in flight). Stops at `maxCount`
   * items or before `maxBytes` would be exceeded (always at least one item
   * when any is eligible, so a single large measurement is still offered).
   */
  next(maxCount: number, maxBytes: number, skip: (idHex: string) => boolean = () => false): OutboxItem[] {
    this.#assertOpen();
    const picked: OrderRow[] = [];
    let bytes = 0;
    for (const row of this.#order.iterate() as IterableIterator<OrderRow>) {
      if (skip(row.id.toString('hex'))) continue;
      if (picked.length > 0 && bytes + row.size > maxBytes) break;
      picked.push(row);
      bytes += row.size;
      if (picked.length >= maxCount) break;
    }
    const out: OutboxItem[] = [];
    for (const p of picked) {
      const row = this.#get.get(p.id) as Row | undefined;
      // Acked by another process between the two reads: nothing to send.
      if (row !== undefined) out.push({ id: new Uint8Array(row.id), startTimeMs: row.start_time_ms, bytes: new Uint8Array(row.bytes) });
    }
    return out;
  }

  /** Delete the rows an Ack named; returns how many existed. */
  ack(ids: readonly Uint8Array[]): number {
    this.#assertOpen();
    let removed = 0;
    this.#write(() => {
      for (const id of ids) removed += this.#delete.run(toBuffer(id)).changes;
      this.#setCounter.run('last_upload_ms', this.#clock.now());
    });
    return removed;
  }

  /**
   * Set a measurement aside after the collector rejected it as invalid: it
   * is no longer offered for upload but stays on disk (counted in `stats`,
   * removed only by the age/size cap), so a bad row cannot block the queue.
   */
  quarantine(id: Uint8Array, reason: string): boolean {
    this.#assertOpen();
    let changed = 0;
    this.#write(() => {
      changed = this.#quarantine.run(reason.slice(0, 500), toBuffer(id)).changes;
    });
    return changed === 1;
  }

  /**
   * Next batch sequence number for this probe: strictly increasing across
   * restarts (gaps allowed). Reserved in blocks so a batch costs no extra
   * fsync; a restart skips the rest of the block.
   */
  nextSequence(): number {
    this.#assertOpen();
    if (this.#seqNext >= this.#seqLimit) {
      let limit = 0;
      this.#write(() => {
        this.#addCounter.run('sequence', SEQUENCE_BLOCK);
        limit = Number(this.#getCounter.get('sequence'));
      });
      this.#seqNext = limit - SEQUENCE_BLOCK + 1;
      this.#seqLimit = limit + 1;
    }
    const value = this.#seqNext;
    this.#seqNext += 1;
    return value;
  }

  /** Apply the age cap now (also applied on every enqueue). */
  prune(): number {
    this.#assertOpen();
    const drops: OutboxDropEvent[] = [];
    this.#write(() => drops.push(...this.#enforceCaps(this.#clock.now())));
    for (const d of drops) this.emit('dropped', d);
    return drops.reduce((n, d) => n + d.count, 0);
  }

  /** Counts for `steppe-probe status`. */
  stats(): OutboxStats {
    this.#assertOpen();
    const t = this.#totals.get() as TotalsRow;
    const oldest = this.#oldest.get() as number | null;
    const counter = (name: string): number | undefined => {
      const v = this.#getCounter.get(name) as number | bigint | undefined;
      return v === undefined ? undefined : Number(v);
    };
    return {
      count: t.row_count,
      bytes: t.byte_count,
      oldestStartTimeMs: oldest ?? undefined,
      dropped: counter('dropped') ?? 0,
      droppedBytes: counter('dropped_bytes') ?? 0,
      quarantined: t.quarantined_count,
      lastUploadMs: counter('last_upload_ms'),
    };
  }

  /** Close the database. Further calls throw. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #enforceCaps(now: number): OutboxDropEvent[] {
    const drops: OutboxDropEvent[] = [];
    const cutoff = now - this.#maxAgeMs;
    // Index range on enqueued_ms: nothing read while nothing is that old.
    const aged = this.#aged.get(cutoff) as AgedRow;
    if (aged.count > 0) {
      this.#deleteAged.run(cutoff);
      drops.push({ count: aged.count, bytes: aged.bytes, reason: 'max_age', newestDroppedStartTimeMs: aged.newest ?? cutoff });
    }
    // The running total (kept by triggers), not a SUM over the whole queue.
    let total = (this.#totals.get() as TotalsRow).byte_count;
    if (total > this.#maxBytes) {
      let count = 0;
      let bytes = 0;
      let newest = 0;
      const victims: Buffer[] = [];
      for (const row of this.#order.iterate() as IterableIterator<OrderRow>) {
        if (total <= this.#maxBytes) break;
        victims.push(row.id);
        total -= row.size;
        bytes += row.size;
        count += 1;
        newest = row.start_time_ms;
      }
      // Quarantined rows are not in #order; they go only when nothing else is left.
      if (total > this.#maxBytes) {
        for (const row of this.#orderQuarantined.iterate() as IterableIterator<OrderRow>) {
          if (total <= this.#maxBytes) break;
          victims.push(row.id);
          total -= row.size;
          bytes += row.size;
          count += 1;
          newest = Math.max(newest, row.start_time_ms);
        }
      }
      for (const id of victims) this.#delete.run(id);
      if (count > 0) drops.push({ count, bytes, reason: 'max_bytes', newestDroppedStartTimeMs: newest });
    }
    for (const d of drops) {
      this.#addCounter.run('dropped', d.count);
      this.#addCounter.run('dropped_bytes', d.bytes);
    }
    return drops;
  }

  #write(fn: () => void): void {
    try {
      this.#db.transaction(fn).immediate();
    } catch (cause) {
      if (cause instanceof SteppeError) throw cause;
      throw new SteppeError('STEPPE_ERR_OUTBOX', `outbox ${this.path}: write failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SteppeError('STEPPE_ERR_OUTBOX', `outbox ${this.path} is closed`);
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
