/** One schema step. Versions are consecutive from 1; a published migration is never edited. */
export interface Migration {
  readonly version: number;
  /** Short name, recorded in `schema_version`. */
  readonly name: string;
  /** SQLite statements, applied in one transaction with the version bump. */
  readonly sql: string;
}
