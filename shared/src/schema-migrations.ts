/**
 * Forward migrations of a SQLite schema, shared by the collector's store and
 * the probe's outbox. The version lives in `PRAGMA user_version`; a
 * `schema_version` table records when each step was applied.
 *
 * Shared code must not depend on a SQLite binding, so the runner takes the
 * little it needs of a database handle ({@link MigrationDatabase});
 * better-sqlite3's `Database` fits it as it is.
 */

/** One schema step. Versions are consecutive from 1; a published migration is never edited. */
export interface Migration {
  readonly version: number;
  /** Short name, recorded in `schema_version`. */
  readonly name: string;
  /** SQLite statements, applied in one transaction with the version bump. */
  readonly sql: string;
}

/** What the runner needs of a SQLite handle. */
export interface MigrationDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...params: unknown[]): unknown;
    get(...params: unknown[]): unknown;
  };
}

/** Options of {@link applyMigrations}. */
export interface MigrateOptions {
  /** Recorded as `applied_ms` of each step. */
  readonly nowMs: number;
  /** Who refuses a newer database, for the message ("collector", "probe"). */
  readonly software: string;
  /** The caller's coded error (the collector's StoreError, the probe's outbox error). */
  readonly fail: (message: string) => Error;
}

/**
 * Bring a database to the latest schema. Each migration runs in its own
 * `BEGIN IMMEDIATE` transaction together with the bump of `user_version` and
 * a row in `schema_version`, so a crash leaves the database at a whole
 * version. The version is read again inside each transaction: when several
 * processes open one file at once (a probe daemon and a `measure` run), the
 * first applies a step and the others skip it. A database newer than the
 * code is refused, never touched.
 *
 * Returns the versions this call applied.
 */
export function applyMigrations(db: MigrationDatabase, migrations: readonly Migration[], options: MigrateOptions): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw options.fail(`migration list is broken: position ${i + 1} holds version ${m.version}`);
  });
  const latest = migrations.length;
  const refuseNewer = (current: number): void => {
    if (current > latest) {
      throw options.fail(`database schema version ${current} is newer than this ${options.software} knows (${latest}); upgrade the ${options.software}`);
    }
  };
  const start = schemaVersion(db);
  refuseNewer(start);
  const applied: number[] = [];
  for (const m of migrations.slice(start)) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = schemaVersion(db);
      refuseNewer(current);
      if (current < m.version) {
        db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_ms INTEGER NOT NULL
        )`);
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)').run(m.version, m.name, options.nowMs);
        // user_version cannot take a bound parameter; the value is our own integer.
        db.exec(`PRAGMA user_version = ${m.version}`);
        applied.push(m.version);
      }
      db.exec('COMMIT');
    } catch (err) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back (e.g. after SQLITE_FULL): the error that matters is err.
      }
      throw err;
    }
  }
  return applied;
}

/** The schema version recorded in the database (0 for a new or unversioned one). */
export function schemaVersion(db: MigrationDatabase): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version?: unknown } | undefined;
  return typeof row?.user_version === 'number' ? row.user_version : 0;
}
