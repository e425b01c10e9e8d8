/**
 * The store: the interface everything else sees (store.ts) and the SQLite
 * implementation behind it.
 */
export * from './store.js';
export { StoreError } from './store-error.js';
export { type SqliteStoreOptions, SqliteStore, openSqliteStore } from './sqlite-store.js';
export { compactRaw, restoreRaw, type CompactRaw, type CutBlob } from './raw-codec.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
