import { INGEST_PATH, UsageError } from '@steppe/shared';

/**
 * The ingest WebSocket URL of a collector given by its base URL:
 * `http://host:port` → `ws://host:port/api/v1/ingest`, `https://` → `wss://`.
 * A base path is kept (`https://example.org/steppe` → `wss://example.org/steppe/api/v1/ingest`).
 * Throws UsageError naming the bad value.
 */
export function ingestUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`collector URL ${JSON.stringify(base)} is not a URL (expected http(s)://host:port)`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`collector URL ${JSON.stringify(base)} must start with http:// or https://`);
  }
  if (url.username !== '' || url.password !== '') throw new UsageError(`collector URL ${JSON.stringify(base)} must not carry credentials`);
  if (url.search !== '' || url.hash !== '') throw new UsageError(`collector URL ${JSON.stringify(base)} must not have a query or fragment`);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(INGEST_PATH) ? path : `${path}${INGEST_PATH}`;
  return url.toString();
}

/** Parse a `--collector URL[,URL...]` value into base URLs, validated. */
export function parseCollectorList(value: string | readonly string[]): string[] {
  const parts = (typeof value === 'string' ? value.split(',') : [...value]).map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) throw new UsageError('no collector URL given (expected http(s)://host:port[,...])');
  for (const p of parts) ingestUrl(p);
  return parts;
}
