import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCKING_VERDICTS, EMPTY_VERDICT_REFERENCE, VERDICTS, isFailure, verdictFor } from '@steppe/shared';
import { DOMAIN, URL_HTTPS, control, dnsQuery, http, tcp, tls } from './helpers/build.js';

// Whatever a probe (or an import) hands it, the engine answers with a
// well-formed analysis and never throws.

const failure = fc.constantFrom('', '', '', 'connection_reset', 'generic_timeout_error', 'eof_error', 'connection_refused', 'dns_nxdomain_error', 'blocked_by_policy', 'ssl_unknown_authority', 'unknown_failure: x');
const ip = fc.constantFrom('31.13.72.36', '10.0.0.1', '127.0.0.1', '2a03:2880::1', 'not-an-ip', '');
const bytes = fc.uint8Array({ maxLength: 64 });

const observations = fc.record({
  dnsQueries: fc.array(fc.record({ addresses: fc.array(ip, { maxLength: 3 }), failure, rcode: fc.constantFrom(0, 2, 3, 5), attempt: fc.constantFrom(0, 1), thirdParty: fc.boolean() }).map((p) => dnsQuery(p)), { maxLength: 3 }),
  tcpConnects: fc.array(fc.tuple(ip, failure, fc.constantFrom(0, 1)).map(([i, f, a]) => tcp(i, f, a)), { maxLength: 4 }),
  tlsHandshakes: fc.array(fc.record({ ip, failure, verificationError: failure, controlSni: fc.boolean(), chain: fc.array(bytes, { maxLength: 2 }), attempt: fc.constantFrom(0, 1) }).map((p) => tls(p)), { maxLength: 4 }),
  httpRequests: fc.array(fc.record({ url: fc.constantFrom(URL_HTTPS, 'http://x/', 'https://www.facebook.com'), status: fc.constantFrom(200, 302, 403, 0), body: fc.string({ maxLength: 200 }), failure, location: fc.constantFrom('', URL_HTTPS, 'http://x/', 'not a url'), attempt: fc.constantFrom(0, 1), throughput: fc.array(fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.nat()), { maxLength: 4 }) }).map((p) => http(p)), { maxLength: 3 }),
  networkEvents: fc.array(fc.record({ kind: fc.constantFrom('dns_duplicate_response', 'blocked_by_policy'), detail: fc.string({ maxLength: 20 }), tMs: fc.double({ noNaN: true }) }), { maxLength: 2 }),
});

const controls = fc.option(fc.record({
  addresses: fc.array(ip, { maxLength: 2 }),
  failure: fc.constantFrom('', '', 'connection_refused'),
  tcp: fc.array(fc.tuple(ip, failure), { maxLength: 2 }),
  http: fc.option(fc.record({ statusCode: fc.constantFrom(0, 200, 404), failure, bodyLength: fc.nat(), throughputBps: fc.double({ noNaN: true, min: 0, max: 1e9 }) }), { nil: null }),
}).map((p) => control(p)), { nil: undefined });

describe('verdictFor on arbitrary input', () => {
  it('never throws and always returns a well-formed analysis', () => {
    fc.assert(
      fc.property(observations, controls, fc.constantFrom(URL_HTTPS, 'http://www.facebook.com:8080/', 'not a url', ''), (obs, ctl, input) => {
        const a = verdictFor({ measurement: { input, domain: DOMAIN, observations: obs, control: ctl ?? null }, reference: EMPTY_VERDICT_REFERENCE });
        expect(a.verdict === '' || (VERDICTS as readonly string[]).includes(a.verdict)).toBe(true);
        expect(a.anomaly).toBe((BLOCKING_VERDICTS as readonly string[]).includes(a.verdict));
        expect(a.accessible).toBe(a.verdict === 'accessible');
        if (a.confirmed) expect(a.anomaly).toBe(true);
        if (a.failure !== '') expect(isFailure(a.failure)).toBe(true);
        expect(a.evidence.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });
});
