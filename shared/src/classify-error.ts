import { type Failure, UNKNOWN_FAILURE_PREFIX } from './failures.js';
import { SteppeError } from './errors.js';
import { scrubIpAddresses } from './scrub.js';

// Errno / library codes mapped to the failure vocabulary. Codes come from
// libuv (ECONN*, EHOST*), c-ares (node:dns: ENOTFOUND, ESERVFAIL, ...),
// OpenSSL via node:tls (certificate verification codes, ERR_SSL_*) and undici
// (UND_ERR_*).
const BY_CODE: Readonly<Record<string, Failure>> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNABORTED: 'connection_aborted',
  ETIMEDOUT: 'generic_timeout_error',
  ETIMEOUT: 'generic_timeout_error',
  EHOSTUNREACH: 'host_unreachable',
  EHOSTDOWN: 'host_unreachable',
  ENETUNREACH: 'network_unreachable',
  ENETDOWN: 'network_down',
  EAFNOSUPPORT: 'address_family_not_supported',
  EADDRNOTAVAIL: 'address_not_available',
  EADDRINUSE: 'address_in_use',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  ERR_STREAM_PREMATURE_CLOSE: 'eof_error',
  // node:dns (c-ares)
  ENOTFOUND: 'dns_nxdomain_error',
  ESERVFAIL: 'dns_servfail_error',
  EREFUSED: 'dns_refused_error',
  ENODATA: 'dns_no_answer',
  EFORMERR: 'dns_format_error',
  EBADRESP: 'dns_format_error',
  ENOTIMP: 'dns_non_recoverable_failure',
  EAI_AGAIN: 'dns_temporary_failure',
  // certificate verification (tls.TLSSocket#authorizationError codes)
  ERR_TLS_CERT_ALTNAME_INVALID: 'ssl_invalid_hostname',
  HOSTNAME_MISMATCH: 'ssl_invalid_hostname',
  UNABLE_TO_GET_ISSUER_CERT: 'ssl_unknown_authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ssl_unknown_authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ssl_unknown_authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'ssl_unknown_authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ssl_unknown_authority',
  CERT_UNTRUSTED: 'ssl_unknown_authority',
  CERT_HAS_EXPIRED: 'ssl_invalid_certificate',
  CERT_NOT_YET_VALID: 'ssl_invalid_certificate',
  CERT_REVOKED: 'ssl_invalid_certificate',
  CERT_SIGNATURE_FAILURE: 'ssl_invalid_certificate',
  CERT_REJECTED: 'ssl_invalid_certificate',
  INVALID_CA: 'ssl_invalid_certificate',
  INVALID_PURPOSE: 'ssl_invalid_certificate',
  PATH_LENGTH_EXCEEDED: 'ssl_invalid_certificate',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'ssl_invalid_certificate',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'ssl_invalid_certificate',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'ssl_invalid_certificate',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'ssl_invalid_certificate',
  EPROTO: 'ssl_failed_handshake',
  // undici
  UND_ERR_CONNECT_TIMEOUT: 'generic_timeout_error',
  UND_ERR_HEADERS_TIMEOUT: 'generic_timeout_error',
  UND_ERR_BODY_TIMEOUT: 'generic_timeout_error',
  UND_ERR_SOCKET: 'eof_error',
  UND_ERR_CLOSED: 'eof_error',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'eof_error',
  UND_ERR_INFO: 'http_invalid_response',
  // Steppe
  STEPPE_ERR_EGRESS_DENIED: 'blocked_by_policy',
};

// node:tls reports a graceful close (FIN) during the handshake with code
// ECONNRESET and this message; a real RST says "read ECONNRESET". OONI tells
// the two apart (eof_error vs connection_reset) and so do we.
const TLS_EOF_MESSAGE = /disconnected before secure TLS connection was established/i;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : undefined;
}

function isTimeoutReason(value: unknown): boolean {
  const e = asErrorLike(value);
  return e !== undefined && (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT');
}

/** Classify one error (not its causes). Undefined when nothing specific matches. */
function classifyOne(e: ErrorLike): Failure | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'TimeoutError') return 'generic_timeout_error';
  if (e.name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
    return isTimeoutReason(e.cause) ? 'generic_timeout_error' : 'interrupted';
  }
  if (code === 'ECONNRESET' && TLS_EOF_MESSAGE.test(message)) return 'eof_error';
  if (code !== undefined) {
    const mapped = BY_CODE[code];
    if (mapped !== undefined) return mapped;
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'ssl_failed_handshake';
    if (code.startsWith('HPE_')) return 'http_invalid_response';
  }
  return undefined;
}

/**
 * Classify any thrown value into the failure vocabulary, walking the `cause`
 * chain (undici wraps socket errors) from the outermost error inwards, and
 * preferring the most specific inner cause for wrappers that only say "the
 * socket failed". Never throws.
 */
export function classifyError(error: unknown): Failure {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8; depth += 1) {
    const e = asErrorLike(current);
    if (e === undefined || chain.includes(e)) break;
    chain.push(e);
    current = e.cause;
  }
  // A wrapper's own code is generic (UND_ERR_SOCKET, fetch failed, AbortError
  // for a socket error...); an inner errno is more precise.
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const inner = chain[i];
    if (inner === undefined) continue;
    const failure = classifyOne(inner);
    if (failure !== undefined && (i === 0 || !isGenericWrapperFailure(failure))) return failure;
  }
  const outer = chain[0];
  if (outer !== undefined) {
    const failure = classifyOne(outer);
    if (failure !== undefined) return failure;
  }
  return unknownFailure(error);
}

// Failures an inner error may carry only as a consequence of an outer one.
function isGenericWrapperFailure(failure: Failure): boolean {
  return failure === 'interrupted';
}

/** `unknown_failure: <message>` with IP addresses scrubbed; for anything unclassified. */
export function unknownFailure(error: unknown): Failure {
  let message: string;
  if (error instanceof SteppeError) message = `${error.code}: ${error.message}`;
  else if (error instanceof Error) message = error.message || error.name;
  else message = String(error);
  const oneLine = scrubIpAddresses(message).replace(/\s+/g, ' ').trim().slice(0, 200);
  return `${UNKNOWN_FAILURE_PREFIX}${oneLine.length > 0 ? oneLine : 'no message'}`;
}

/** The failure for a DNS RCODE other than NOERROR (RFC 1035 §4.1.1, RFC 6895). */
export function failureForRcode(rcode: number): Failure | undefined {
  switch (rcode) {
    case 0:
      return undefined;
    case 1:
      return 'dns_format_error';
    case 2:
      return 'dns_servfail_error';
    case 3:
      return 'dns_nxdomain_error';
    case 4:
      return 'dns_non_recoverable_failure';
    case 5:
      return 'dns_refused_error';
    default:
      return `${UNKNOWN_FAILURE_PREFIX}dns rcode ${rcode}`;
  }
}
