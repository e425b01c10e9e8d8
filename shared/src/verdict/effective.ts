import type { steppe } from '@steppe/proto';

/**
 * Retry handling. The probe retries a failed step once after a short delay
 * and records both attempts (`attempt` 0 and 1). A failure that disappears on
 * the retry is not an anomaly: the retry's result stands. This module picks,
 * for every step, the observation the verdict is computed from, keeping the
 * index of each in the measurement's arrays so evidence can name it.
 */

type DnsQuery = steppe.v1.DnsQuery.$Properties;
type TcpConnect = steppe.v1.TcpConnect.$Properties;
type TlsHandshake = steppe.v1.TlsHandshake.$Properties;
type HttpRequest = steppe.v1.HttpRequest.$Properties;

/** An observation and its index in the measurement's array. */
export interface Indexed<T> {
  readonly index: number;
  readonly value: T;
}

/** The observations a verdict is computed from: one per step, the latest attempt of each. */
export interface EffectiveObservations {
  readonly dns: readonly Indexed<DnsQuery>[];
  readonly tcp: readonly Indexed<TcpConnect>[];
  readonly tls: readonly Indexed<TlsHandshake>[];
  readonly http: readonly Indexed<HttpRequest>[];
  /** One line per failed attempt that a retry superseded, naming both observations. */
  readonly retries: readonly string[];
}

function str(value: string | null | undefined): string {
  return value ?? '';
}

/**
 * Keep, for every key, the observation with the highest `attempt` (on a tie,
 * the later one), in the position of the key's first observation, so order
 * (e.g. a redirect chain) is kept.
 */
function latestAttempts<T extends { attempt?: number | null; failure?: string | null }>(
  items: readonly T[] | null | undefined,
  key: (item: T) => string,
  name: string,
  retries: string[],
): Indexed<T>[] {
  const chosen = new Map<string, { position: number; item: Indexed<T>; superseded: Indexed<T>[] }>();
  (items ?? []).forEach((value, index) => {
    const k = key(value);
    const entry = chosen.get(k);
    if (entry === undefined) {
      chosen.set(k, { position: chosen.size, item: { index, value }, superseded: [] });
      return;
    }
    if ((value.attempt ?? 0) >= (entry.item.value.attempt ?? 0)) {
      entry.superseded.push(entry.item);
      entry.item = { index, value };
    } else {
      entry.superseded.push({ index, value });
    }
  });
  const out = [...chosen.values()].sort((a, b) => a.position - b.position);
  for (const { item, superseded } of out) {
    for (const old of superseded) {
      const failure = str(old.value.failure);
      if (failure === '') continue;
      const now = str(item.value.failure);
      retries.push(
        `${name}[${old.index}] (attempt ${old.value.attempt ?? 0}) failed with ${failure}; its retry ${name}[${item.index}] ` +
          `${now === '' ? 'succeeded' : `failed with ${now}`}: the retry's result stands`,
      );
    }
  }
  return out.map((o) => o.item);
}

/** The latest attempt of every DNS query, TCP connect, TLS handshake and HTTP request. */
export function effectiveObservations(observations: steppe.v1.Observations.$Properties | null | undefined): EffectiveObservations {
  const o = observations ?? {};
  const retries: string[] = [];
  const dns = latestAttempts(
    o.dnsQueries,
    (q) => `${str(q.hostname).toLowerCase()}|${str(q.queryType)}|${str(q.resolver)}|${q.transport ?? 0}`,
    'dns_queries',
    retries,
  );
  const tcp = latestAttempts(o.tcpConnects, (t) => `${str(t.ip)}|${t.port ?? 0}`, 'tcp_connects', retries);
  const tls = latestAttempts(
    o.tlsHandshakes,
    (t) => `${str(t.ip)}|${t.port ?? 0}|${str(t.serverName).toLowerCase()}|${t.controlSni === true}`,
    'tls_handshakes',
    retries,
  );
  const http = latestAttempts(o.httpRequests, (h) => `${str(h.method) || 'GET'}|${str(h.url)}`, 'http_requests', retries);
  return { dns, tcp, tls, http, retries };
}
