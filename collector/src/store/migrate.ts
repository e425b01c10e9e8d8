import { type MigrationDatabase, applyMigrations, schemaVersion } from '@steppe/shared';
import type { Migration } from './migrations/index.js';
import { StoreError } from './store-error.js';

/**
 * Bring the collector's database to the latest schema with the shared
 * runner (@steppe/shared schema-migrations.ts: one transaction per step,
 * `PRAGMA user_version`, a newer database refused untouched); refusals are
 * StoreErrors. Returns the versions applied.
 */
export function migrate(db: MigrationDatabase, migrations: readonly Migration[], nowMs: number): number[] {
  return applyMigrations(db, migrations, { nowMs, software: 'collector', fail: (message) => new StoreError(message) });
}

/** The schema version recorded in the database (0 for a new one). */
export function currentVersion(db: MigrationDatabase): number {
  return schemaVersion(db);
}
