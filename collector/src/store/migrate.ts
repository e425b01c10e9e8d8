import type { Database } from 'better-sqlite3';
import type { Migration } from './migrations/index.js';
import { StoreError } from './store-error.js';

/**
 * Bring a database to the latest schema. Each migration runs in its own
 * transaction together with the bump of `PRAGMA user_version` and a row in
 * `schema_version`, so a crash leaves the database at a whole version.
 * A database newer than this code is refused, never touched.
 *
 * Returns the versions applied.
 */
export function migrate(db: Database, migrations: readonly Migration[], nowMs: number): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new StoreError(`migration list is broken: position ${i + 1} holds version ${m.version}`);
  });
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
  )`);
  const current = currentVersion(db);
  const latest = migrations.length;
  if (current > latest) {
    throw new StoreError(`database schema version ${current} is newer than this collector knows (${latest}); upgrade the collector`);
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)');
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, nowMs);
      // user_version cannot take a bound parameter; the value is our own integer.
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}

/** The schema version recorded in the database (0 for a new one). */
export function currentVersion(db: Database): number {
  const value = db.pragma('user_version', { simple: true });
  return typeof value === 'number' ? value : 0;
}
