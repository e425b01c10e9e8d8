import { describe, expect, it } from 'vitest';
import { type AnalysisResult, EMPTY_VERDICT_REFERENCE, verdictFor, wire } from '@steppe/shared';
import { DOMAIN, SITE_IP, URL_HTTP, URL_HTTPS, type Control, type Observations, control, dnsQuery, http, observations, response, tcp } from './helpers/build.js';

// Whose DNS answer counts. The system resolver is the user's: every
// application on the volunteer's machine asks it. A third-party resolver the
// probe asks besides (`third_party_resolver`) shows whether circumvention
// works; it never makes a blocked site accessible.

function judge(obs: Observations, ctl: Control = control(), input = URL_HTTPS): AnalysisResult {
  return verdictFor({ measurement: { input, domain: DOMAIN, observations: obs, control: ctl }, reference: EMPTY_VERDICT_REFERENCE });
}

function summary(a: AnalysisResult): Record<string, unknown> {
  return { verdict: a.verdict, blockingType: a.blockingType, failure: a.failure, failedStep: a.failedStep, anomaly: a.anomaly };
}

const THIRD = '9.9.9.9:53';

describe('several resolvers: the system resolver decides', () => {
  it('NXDOMAIN from the system resolver is dns blocking, though a third-party resolver answered and the page came through it', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery({ failure: 'dns_nxdomain_error', rcode: 3, addresses: [] }), dnsQuery({ thirdParty: true, resolver: THIRD })],
    }));
    expect(summary(a), a.evidence.join('\n')).toEqual({ verdict: 'dns', blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error', failedStep: 'dns', anomaly: true });
    expect(a.evidence).toContain(`dns_queries[1] (third-party resolver ${THIRD}) answered ${SITE_IP}: not the resolver the volunteer's applications use; a third-party resolver circumvents the blocking`);
    expect(a.evidence).toContain(`http_requests[0] (${URL_HTTPS}) fetched the page through it, matching control.http (status 200)`);
  });

  it('a third-party resolver failing is not the user\'s problem: accessible', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery(), dnsQuery({ thirdParty: true, failure: 'generic_timeout_error' })] }));
    expect(summary(a)).toEqual({ verdict: 'accessible', blockingType: '', failure: '', failedStep: '', anomaly: false });
  });

  it('a third-party resolver filtering the name (a bogon answer) is its own policy, not the network\'s', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery(), dnsQuery({ thirdParty: true, addresses: ['0.0.0.0'] })] }));
    expect(a.verdict, a.evidence.join('\n')).toBe('accessible');
  });

  it('an answer injected on the way to a third-party resolver is still injection: no resolver answers twice', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery(), dnsQuery({ thirdParty: true, responses: [response(['10.10.34.36']), response([SITE_IP])] })],
    }));
    expect(summary(a)).toMatchObject({ verdict: 'dns', blockingType: 'dns_injection' });
    expect(a.confirmed).toBe(true);
    expect(a.evidence.join('\n')).toContain(`via the third-party resolver ${THIRD}`);
  });

  it('with no system query at all, the third-party answers are all there is', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ thirdParty: true, failure: 'dns_nxdomain_error', rcode: 3, addresses: [] })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }));
    expect(summary(a)).toMatchObject({ verdict: 'dns', blockingType: 'dns_nxdomain' });
  });

  it('records without the flag keep their meaning: DoH is set aside when the system resolver was asked over UDP', () => {
    const doh = dnsQuery({ resolver: 'https://dns.example/dns-query', transport: wire.DnsTransport.DNS_TRANSPORT_DOH });
    const a = judge(observations({ dnsQueries: [dnsQuery({ failure: 'dns_nxdomain_error', rcode: 3, addresses: [] }), doh] }));
    expect(summary(a)).toMatchObject({ verdict: 'dns', blockingType: 'dns_nxdomain' });
  });
});

describe('ISP NXDOMAIN hijacking', () => {
  it('the name does not exist for the control, the ISP\'s resolver answers its own page: down, not dns', () => {
    const isp = '92.46.54.20';
    const a = judge(
      observations({
        dnsQueries: [dnsQuery({ addresses: [isp] })],
        tcpConnects: [tcp(isp, '', 0, 80)],
        tlsHandshakes: [],
        httpRequests: [http({ url: URL_HTTP, body: '<html><head><title>Поиск</title></head><body>search</body></html>' })],
      }),
      control({ dnsFailure: 'dns_nxdomain_error', http: { statusCode: 0, failure: 'dns_nxdomain_error', bodyLength: 0 } }),
      URL_HTTP,
    );
    expect(summary(a)).toEqual({ verdict: 'down', blockingType: '', failure: '', failedStep: '', anomaly: false });
    expect(a.evidence.join('\n')).toContain(`the probe's resolver answered ${isp} anyway`);
  });

  it('a control whose resolver failed otherwise (SERVFAIL) leaves the site unjudged: accessible, nothing compared', () => {
    const a = judge(observations(), control({ dnsFailure: 'dns_servfail_error', http: { statusCode: 0, failure: 'dns_servfail_error', bodyLength: 0 } }));
    expect(a.verdict).toBe('accessible');
  });
});
