/**
 * The closed failure vocabulary. Network failures are data, not exceptions:
 * every error a measurement meets is classified once into one of these
 * strings (OONI-compatible, see ooni/spec data-formats/df-007-errors.md and
 * probe-cli's netxlite), or into `unknown_failure: <message>` with IP
 * addresses scrubbed. docs/failures.md documents each one; a test keeps the
 * two in sync.
 */
export const FAILURES = [
  // connection level
  'connection_refused',
  'connection_reset',
  'connection_aborted',
  'connection_already_closed',
  'generic_timeout_error',
  'eof_error',
  'host_unreachable',
  'network_unreachable',
  'network_down',
  'address_family_not_supported',
  'address_not_available',
  'address_in_use',
  'permission_denied',
  'interrupted',
  // DNS
  'dns_nxdomain_error',
  'dns_servfail_error',
  'dns_refused_error',
  'dns_no_answer',
  'dns_bogon_error',
  'dns_non_recoverable_failure',
  'dns_temporary_failure',
  'dns_reply_with_wrong_query_id',
  'dns_format_error',
  // TLS
  'ssl_invalid_hostname',
  'ssl_unknown_authority',
  'ssl_invalid_certificate',
  'ssl_failed_handshake',
  // HTTP
  'http_invalid_response',
  'http_too_many_redirects',
  'http_invalid_redirect',
  // Steppe: the egress allow-list refused the address before any socket opened.
  'blocked_by_policy',
] as const;

/** A failure string from the closed list (without `unknown_failure`). */
export type KnownFailure = (typeof FAILURES)[number];

/** Prefix of the open-ended failure for anything not in the list. */
export const UNKNOWN_FAILURE_PREFIX = 'unknown_failure: ';

/** A classified failure: a known string or `unknown_failure: <scrubbed message>`. */
export type Failure = KnownFailure | `unknown_failure: ${string}`;

const KNOWN: ReadonlySet<string> = new Set(FAILURES);

/** True when `value` is a valid failure string (known or well-formed unknown). */
export function isFailure(value: string): value is Failure {
  return KNOWN.has(value) || (value.startsWith(UNKNOWN_FAILURE_PREFIX) && value.length > UNKNOWN_FAILURE_PREFIX.length);
}

/** True for a failure in the closed list. */
export function isKnownFailure(value: string): value is KnownFailure {
  return KNOWN.has(value);
}

/** The step of a measurement a failure happened in (OONI's `failed_operation`). */
export const OPERATIONS = ['dns', 'tcp_connect', 'tls_handshake', 'http_request'] as const;
export type Operation = (typeof OPERATIONS)[number];
