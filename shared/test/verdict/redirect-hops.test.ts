import { describe, expect, it } from 'vitest';
import { type AnalysisResult, EMPTY_VERDICT_REFERENCE, verdictFor } from '@steppe/shared';
import { DOMAIN, URL_HTTPS, type Control, type Observations, control, dnsQuery, http, observations, tcp, tls } from './helpers/build.js';

// Redirect chains: followed through `location` in any spelling of the URL,
// and, when the next hop fails, typed by the step of that hop (the probe
// records the failure on the hop's request; OONI records the hop's DNS,
// connects and handshakes and no request).

const HOP = 'https://m.facebook.com/';
const HOP_IP = '157.240.1.35';

function judge(obs: Observations, ctl: Control = control()): AnalysisResult {
  return verdictFor({ measurement: { input: URL_HTTPS, domain: DOMAIN, observations: obs, control: ctl }, reference: EMPTY_VERDICT_REFERENCE });
}

function summary(a: AnalysisResult): Record<string, unknown> {
  return { verdict: a.verdict, blockingType: a.blockingType, failure: a.failure, failedStep: a.failedStep };
}

const redirect = http({ status: 302, body: '', location: HOP });

describe('redirect chains', () => {
  it('a hop requested without the trailing "/" of its location is the same hop (OONI\'s Go probes spell it so)', () => {
    const a = judge(observations({ httpRequests: [http({ status: 301, body: '', location: 'https://www.facebook.com/home' }), http({ url: 'https://www.facebook.com:443/home#top' })] }));
    expect(a.verdict, a.evidence.join('\n')).toBe('accessible');
    expect(a.evidence.join('\n')).toContain('http_requests[1] (https://www.facebook.com:443/home#top) matches control.http');
  });

  it('a chain ending at a redirect nothing else was seen of is compared as it is (a diff)', () => {
    const a = judge(observations({ httpRequests: [redirect] }));
    expect(summary(a)).toMatchObject({ verdict: 'http-diff' });
  });
});

describe('which step failed after a redirect', () => {
  it('the next hop\'s name does not resolve: dns', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery(), dnsQuery({ hostname: 'm.facebook.com', failure: 'dns_nxdomain_error', rcode: 3, addresses: [] })],
      httpRequests: [redirect, http({ url: HOP, failure: 'dns_nxdomain_error' })],
    }));
    expect(summary(a), a.evidence.join('\n')).toEqual({ verdict: 'dns', blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error', failedStep: 'dns' });
    expect(a.evidence[0]).toBe(`http_requests[0] (${URL_HTTPS}) redirected to ${HOP}, and that hop failed at dns: dns_queries[1] (m.facebook.com) failed with dns_nxdomain_error`);
  });

  it('the next hop refuses the connection: tcp_ip', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery(), dnsQuery({ hostname: 'm.facebook.com', addresses: [HOP_IP] })],
      httpRequests: [redirect, http({ url: HOP, failure: 'connection_refused' })],
    }));
    expect(summary(a)).toEqual({ verdict: 'tcp_ip', blockingType: 'tcp_refused', failure: 'connection_refused', failedStep: 'tcp_connect' });
    expect(a.evidence[0]).toContain(`http_requests[1] (${HOP}) could not connect to m.facebook.com:443 (connection_refused)`);
  });

  it('the next hop\'s handshakes fail (recorded, OONI style): tls', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery(), dnsQuery({ hostname: 'm.facebook.com', addresses: [HOP_IP] })],
      tcpConnects: [tcp(), tcp(HOP_IP)],
      tlsHandshakes: [tls(), tls({ ip: HOP_IP, sni: 'm.facebook.com', failure: 'connection_reset' })],
      httpRequests: [redirect],
    }));
    expect(summary(a)).toEqual({ verdict: 'tls', blockingType: 'tls_failure', failure: 'connection_reset', failedStep: 'tls_handshake' });
  });

  it('the next hop\'s request is reset: http-failure, naming that hop', () => {
    const a = judge(observations({ httpRequests: [redirect, http({ url: HOP, failure: 'connection_reset' })] }));
    expect(summary(a)).toEqual({ verdict: 'http-failure', blockingType: 'http_reset', failure: 'connection_reset', failedStep: 'http_request' });
    expect(a.evidence[0]).toBe(`http_requests[1] (${HOP}) failed with connection_reset`);
  });

  it('the control could not follow the redirects either: down', () => {
    const a = judge(
      observations({ httpRequests: [redirect, http({ url: HOP, failure: 'connection_refused' })] }),
      control({ http: { statusCode: 0, failure: 'connection_refused', bodyLength: 0 } }),
    );
    expect(a.verdict).toBe('down');
  });
});
