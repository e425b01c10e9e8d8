/**
 * The store: the interface everything else sees (store.ts), `openStore`
 * (which engine a `--db` names) and the SQLite implementation.
 */
export * from './store.js';
export { StoreError } from './store-error.js';
export { type SqliteStoreOptions, SqliteStore, openSqliteStore } from './sqlite-store.js';
export { type OpenStoreOptions, type StoreEngine, openStore, redactDbUrl, storeEngineOf } from './open-store.js';
export { compactRaw, restoreRaw, type CompactRaw, type CutBlob } from './raw-codec.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
