import type { Migration } from '@steppe/shared';

/**
 * The outbox schema of v0.1, which had no version (`user_version` 0). Every
 * statement is `IF NOT EXISTS`, so the step adopts a v0.1 file as it is and
 * creates the tables in a new one. Never edit it: probes in the field hold
 * files made by it (probe/test/fixtures/v0.1-data-dir).
 */
const migration001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE IF NOT EXISTS outbox (
  id BLOB PRIMARY KEY,
  start_time_ms INTEGER NOT NULL,
  enqueued_ms INTEGER NOT NULL,
  size INTEGER NOT NULL,
  quarantined TEXT,
  bytes BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (start_time_ms, id);
CREATE INDEX IF NOT EXISTS outbox_enqueued ON outbox (enqueued_ms);
CREATE TABLE IF NOT EXISTS outbox_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`,
};

/**
 * Running totals of the queue, kept by triggers in the same transaction as
 * the rows they count: the size cap reads one row on every enqueue instead
 * of summing the whole queue, and every process sharing the file (a daemon
 * and a `measure --collector` run) sees the same totals. Backfilled from the
 * rows already queued. The triggers also keep the totals right if an older
 * probe, which knows nothing of them, writes to the file after a downgrade.
 */
const migration002: Migration = {
  version: 2,
  name: 'running-totals',
  sql: `
CREATE TABLE outbox_totals (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  row_count INTEGER NOT NULL,
  byte_count INTEGER NOT NULL,
  quarantined_count INTEGER NOT NULL
);
INSERT INTO outbox_totals (singleton, row_count, byte_count, quarantined_count)
  SELECT 1, COUNT(*), COALESCE(SUM(size), 0), COUNT(quarantined) FROM outbox;
CREATE TRIGGER outbox_totals_insert AFTER INSERT ON outbox BEGIN
  UPDATE outbox_totals SET row_count = row_count + 1, byte_count = byte_count + NEW.size,
    quarantined_count = quarantined_count + (NEW.quarantined IS NOT NULL) WHERE singleton = 1;
END;
CREATE TRIGGER outbox_totals_delete AFTER DELETE ON outbox BEGIN
  UPDATE outbox_totals SET row_count = row_count - 1, byte_count = byte_count - OLD.size,
    quarantined_count = quarantined_count - (OLD.quarantined IS NOT NULL) WHERE singleton = 1;
END;
CREATE TRIGGER outbox_totals_update AFTER UPDATE OF size, quarantined ON outbox BEGIN
  UPDATE outbox_totals SET byte_count = byte_count + NEW.size - OLD.size,
    quarantined_count = quarantined_count + (NEW.quarantined IS NOT NULL) - (OLD.quarantined IS NOT NULL) WHERE singleton = 1;
END;
`,
};

/** Every outbox migration, in order. Append new ones; never edit or reorder old ones. */
export const OUTBOX_MIGRATIONS: readonly Migration[] = [migration001, migration002];
