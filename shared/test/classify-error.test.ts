import { describe, expect, it } from 'vitest';
import { EgressDeniedError, classifyError, failureForRcode, isFailure } from '../src/index.js';

// Pure mapping checks with error shapes as Node and undici produce them; the
// same mappings are exercised against real sockets in shared/test/netx/.
function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  it('maps errno codes', () => {
    expect(classifyError(errno('ECONNREFUSED'))).toBe('connection_refused');
    expect(classifyError(errno('ECONNRESET', 'read ECONNRESET'))).toBe('connection_reset');
    expect(classifyError(errno('ETIMEDOUT'))).toBe('generic_timeout_error');
    expect(classifyError(errno('EHOSTUNREACH'))).toBe('host_unreachable');
    expect(classifyError(errno('ENETUNREACH'))).toBe('network_unreachable');
  });

  it('tells a TLS-time FIN (eof_error) from a RST', () => {
    expect(classifyError(errno('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'))).toBe('eof_error');
  });

  it('maps certificate verification codes', () => {
    expect(classifyError(errno('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('ssl_invalid_hostname');
    expect(classifyError(errno('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('ssl_unknown_authority');
    expect(classifyError(errno('CERT_HAS_EXPIRED'))).toBe('ssl_invalid_certificate');
    expect(classifyError(errno('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'))).toBe('ssl_failed_handshake');
  });

  it('walks undici cause chains to the most precise error', () => {
    const inner = errno('ECONNRESET', 'read ECONNRESET');
    const socketErr = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: inner });
    const fetchFailed = new TypeError('fetch failed', { cause: socketErr });
    expect(classifyError(fetchFailed)).toBe('connection_reset');
    expect(classifyError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))).toBe('eof_error');
  });

  it('separates timeouts from cancellation', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyError(timeout)).toBe('generic_timeout_error');
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: timeout });
    expect(classifyError(abort)).toBe('generic_timeout_error');
    expect(classifyError(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }))).toBe('interrupted');
  });

  it('classifies egress refusals and scrubs unknown failures', () => {
    expect(classifyError(new EgressDeniedError('8.8.8.8'))).toBe('blocked_by_policy');
    const unknown = classifyError(new Error('weird thing talking to 95.56.12.7 and 2a02:8108::1'));
    expect(unknown).toBe('unknown_failure: weird thing talking to [scrubbed] and [scrubbed]');
    expect(isFailure(unknown)).toBe(true);
    expect(classifyError('a string')).toBe('unknown_failure: a string');
  });

  it('maps DNS rcodes', () => {
    expect(failureForRcode(0)).toBeUndefined();
    expect(failureForRcode(2)).toBe('dns_servfail_error');
    expect(failureForRcode(3)).toBe('dns_nxdomain_error');
    expect(failureForRcode(5)).toBe('dns_refused_error');
    expect(failureForRcode(9)).toBe('unknown_failure: dns rcode 9');
  });
});
