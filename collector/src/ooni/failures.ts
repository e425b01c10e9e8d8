import { UNKNOWN_FAILURE_PREFIX, isFailure, scrubIpAddresses } from '@steppe/shared';

/**
 * OONI failure strings → Steppe's closed vocabulary (docs/failures.md).
 *
 * Modern probes (probe-engine, probe-cli) already use the strings Steppe
 * uses; older ones do not (ooni/spec data-formats/df-007-errors.md lists the
 * ooniprobe-legacy/Twisted and Measurement Kit spellings). The aliases below
 * are the ones whose meaning is clear; anything else is kept, scrubbed of IP
 * addresses, as `unknown_failure: <original>` so no information is lost and
 * the stored measurement still passes the codec's vocabulary check.
 */
const ALIASES: Readonly<Record<string, string>> = {
  // ooniprobe-legacy (Twisted)
  connection_refused_error: 'connection_refused',
  // t.i.e.ConnectionLost: the connection went away "in a non-clean fashion".
  connection_lost_error: 'connection_reset',
  // t.i.e.ConnectionDone: a clean close when more was expected.
  connection_done: 'eof_error',
  tcp_timed_out_error: 'generic_timeout_error',
  deferred_timeout_error: 'generic_timeout_error',
  task_timed_out: 'generic_timeout_error',
  // The HTTP agent's connection closed before any response arrived.
  response_never_received: 'eof_error',
  address_family_not_supported_error: 'address_family_not_supported',
  // t.n.e.DNSNameError is NXDOMAIN; DNSServerError is SERVFAIL. Legacy
  // ooniprobe raised DNSLookupError when the name did not resolve at all.
  dns_name_error: 'dns_nxdomain_error',
  dns_name_failure: 'dns_servfail_error',
  dns_lookup_error: 'dns_nxdomain_error',
  // probe-engine spellings
  ssl_unknown_autority: 'ssl_unknown_authority',
  dns_server_failure: 'dns_servfail_error',
  dns_server_misbehaving: 'dns_servfail_error',
  android_dns_cache_no_data: 'dns_no_answer',
};

const MAX_UNKNOWN_DETAIL = 200;

/**
 * Map an OONI `failure` value (string, null, or the boolean some old
 * records carry) to a Steppe failure string; '' means "no failure".
 */
export function failureFromOoni(value: unknown): string {
  if (typeof value !== 'string') return '';
  const text = value.trim();
  if (text.length === 0) return '';
  const alias = ALIASES[text];
  if (alias !== undefined) return alias;
  if (isFailure(text)) return text.startsWith(UNKNOWN_FAILURE_PREFIX) ? unknownFailure(text.slice(UNKNOWN_FAILURE_PREFIX.length)) : text;
  // Legacy spelling "unknown_failure <message>" (a space, no colon).
  if (text.startsWith('unknown_failure ')) return unknownFailure(text.slice('unknown_failure '.length));
  return unknownFailure(text);
}

/** `unknown_failure: <detail>` with IP addresses scrubbed and the length capped. */
export function unknownFailure(detail: string): string {
  const scrubbed = scrubIpAddresses(detail.trim()).slice(0, MAX_UNKNOWN_DETAIL);
  return `${UNKNOWN_FAILURE_PREFIX}${scrubbed.length > 0 ? scrubbed : 'unspecified'}`;
}

/** A Steppe failure as OONI writes it: the same string, or null for none. */
export function failureToOoni(failure: string | null | undefined): string | null {
  return failure === undefined || failure === null || failure === '' ? null : failure;
}
