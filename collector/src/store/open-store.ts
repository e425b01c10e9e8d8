import { InvalidArgumentError } from '@steppe/shared';
import { type SqliteStoreOptions, openSqliteStore } from './sqlite-store.js';
import { StoreError } from './store-error.js';
import type { Store } from './store.js';

/**
 * One place decides which engine a `--db` value names (docs/cli.md):
 * a PostgreSQL URL in libpq's URI form — `postgres://user@host:5432/db`,
 * `postgresql://…`, or a Unix socket as `postgres:///db?host=/var/run/postgresql`
 * — or else a SQLite file path (':memory:' for tests).
 */

/** The storage engines. */
export type StoreEngine = 'sqlite' | 'postgresql';

/**
 * Options of `openStore`. The SQLite ones (page cache, blob sizes) are
 * ignored by PostgreSQL; `clock` and `lateAfterMs` mean the same on both.
 */
export type OpenStoreOptions = SqliteStoreOptions;

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const ANY_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The engine a database spec names; InvalidArgumentError for a URL of another scheme. */
export function storeEngineOf(spec: string): StoreEngine {
  if (POSTGRES_URL.test(spec)) return 'postgresql';
  if (ANY_URL.test(spec)) throw new InvalidArgumentError(`database: ${redactDbUrl(spec)} is neither a file path nor a postgres:// or postgresql:// URL`);
  return 'sqlite';
}

/**
 * A database spec fit to print: a PostgreSQL URL's password (in the user
 * part, or a `password` / `sslpassword` parameter) becomes `***`; a file
 * path is returned as it is. Works on text, not a URL parser, so a URL that
 * does not parse (several hosts, a '/', '?' or '@' in the password) is still
 * redacted: the user part is taken to end at the *last* '@', which may hide
 * more than the password in an odd URL, never less.
 */
export function redactDbUrl(spec: string): string {
  if (!ANY_URL.test(spec)) return spec;
  const schemeEnd = spec.indexOf('//') + 2;
  const at = spec.lastIndexOf('@');
  let out = spec;
  if (at >= schemeEnd) {
    const userinfo = spec.slice(schemeEnd, at);
    const colon = userinfo.indexOf(':');
    if (colon !== -1) out = `${spec.slice(0, schemeEnd)}${userinfo.slice(0, colon)}:***${spec.slice(at)}`;
  }
  return out.replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/**
 * The PostgreSQL engine. PLACEHOLDER of this branch: the PostgreSQL store
 * is written on another branch (collector/src/store/pg/, `openPgStore`);
 * when both merge, this function is replaced by
 * `import { openPgStore } from './pg/index.js'`.
 */
export function openPgStorePlaceholder(url: string, _options: OpenStoreOptions): Promise<Store> {
  return Promise.reject(new StoreError(`cannot open ${redactDbUrl(url)}: PostgreSQL support is not built into this branch`));
}

/**
 * Open the store a spec names (see the module comment), creating and
 * migrating its schema as needed. Errors never show a URL's password.
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (typeof spec !== 'string' || spec.length === 0) throw new InvalidArgumentError('database: expected a file path or a postgres:// URL');
  return storeEngineOf(spec) === 'postgresql' ? openPgStorePlaceholder(spec, options) : openSqliteStore(spec, options);
}
