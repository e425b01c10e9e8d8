import Database from 'better-sqlite3';
import { StoreError } from './store-error.js';

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

/**
 * Open one connection of the store with the settings every connection
 * shares. Durability: `journal_mode = WAL` with `synchronous = FULL` fsyncs
 * the WAL at every commit, so a commit that returned survives power loss,
 * not only a process crash (NORMAL would only keep the database consistent,
 * possibly losing the last commits, and ingest acks right after a commit
 * returns). `synchronous` is per connection: the writer's is what counts.
 */
export function openSqliteConnection(path: string, cacheMiB: number): Database.Database {
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
    db.pragma(`cache_size = ${-1024 * cacheMiB}`);
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = OFF'); // referential integrity is kept by this code; checks would cost every insert
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    return db;
  } catch (cause) {
    db.close();
    throw new StoreError(`cannot prepare database ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
