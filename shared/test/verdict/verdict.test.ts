import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENGINE_VERSION,
  EMPTY_VERDICT_REFERENCE,
  type AnalysisResult,
  type VerdictMeasurement,
  type VerdictOptions,
  type VerdictReference,
  loadFingerprints,
  loadInterceptionRoots,
  parseCidrList,
  verdictFor,
  wire,
} from '@steppe/shared';
import {
  DOMAIN,
  PAGE,
  SITE_IP,
  URL_HTTP,
  URL_HTTPS,
  control,
  dnsQuery,
  http,
  observations,
  response,
  sha,
  tcp,
  tls,
  type Control,
  type Observations,
} from './helpers/build.js';
import { makeInterceptionPki, type InterceptionPki } from './helpers/pki.js';

const FINGERPRINT_HEADER = 'name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n';
const fingerprints = loadFingerprints(
  FINGERPRINT_HEADER +
    'test.kz_body,nat,,body,contains,Доступ к ресурсу ограничен,10,KZ,test,,\n' +
    'test.kz_location,isp,,header.location,prefix,http://blocked.lab/,10,KZ,test,,\n' +
    'test.vague,vbw,,body,contains,Website Blocked,8,,test,,\n' +
    'test.fp_title,fp,,body,contains,<title>Facebook - log in or sign up</title>,5,,test,,\n' +
    'test.cdn_name,prod,,body,contains,DDOS-GUARD,5,,test,,\n',
  FINGERPRINT_HEADER + 'test.dns_kz,nat,,dns,full,95.59.0.10,10,KZ,test,,\n' + 'test.dns_vague,vbw,,dns,full,127.0.0.1,10,,test,,\n',
);
const BASE: VerdictReference = { ...EMPTY_VERDICT_REFERENCE, httpFingerprints: fingerprints.http, dnsFingerprints: fingerprints.dns };

function judge(
  obs: Observations,
  ctl: Control | undefined,
  options: { input?: string; reference?: VerdictReference; verdictOptions?: VerdictOptions } = {},
): AnalysisResult {
  const measurement: VerdictMeasurement = { input: options.input ?? URL_HTTPS, domain: DOMAIN, observations: obs, control: ctl ?? null };
  return verdictFor({ measurement, reference: options.reference ?? BASE, ...(options.verdictOptions === undefined ? {} : { options: options.verdictOptions }) });
}

function expectVerdict(a: AnalysisResult, verdict: string, extra: Partial<AnalysisResult> = {}): void {
  expect({ verdict: a.verdict, ...Object.fromEntries(Object.keys(extra).map((k) => [k, a[k as keyof AnalysisResult]])) }, a.evidence.join('\n')).toEqual({ verdict, ...extra });
}

describe('accessible', () => {
  it('an honest HTTPS fetch matching the control is accessible, with a complete analysis', () => {
    const a = judge(observations(), control());
    expect(a).toMatchObject({
      verdict: 'accessible', accessible: true, anomaly: false, confirmed: false, failure: '', failedStep: '', blockingType: '',
      engineVersion: ENGINE_VERSION,
    });
    expect(a.controlSummary).toMatchObject({ controlOk: true, dnsConsistency: 'consistent', controlStatusCode: 200, bodyProportion: 1, statusCodeMatch: true, titleMatch: true });
    // The result is a valid wire Analysis.
    const decoded = wire.Analysis.decode(wire.Analysis.encode(a).finish());
    expect(decoded.verdict).toBe('accessible');
    expect(decoded.engineVersion).toBe(ENGINE_VERSION);
  });

  it('a CDN answering with other addresses in the same known ASN is consistent', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: ['157.240.1.1'] })], tcpConnects: [tcp('157.240.1.1')], tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP })] }),
      control({ addresses: [[SITE_IP, 32934]], probeAddresses: [['157.240.1.1', 32934]] }),
      { input: URL_HTTP },
    );
    expectVerdict(a, 'accessible');
    expect(a.controlSummary.dnsConsistency).toBe('consistent');
    expect(a.evidence.join('\n')).not.toContain('regional DNS');
  });

  it('no shared address or ASN, but a TLS handshake valid for the domain, is consistent', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: ['157.240.1.1'] })], tcpConnects: [tcp('157.240.1.1')], tlsHandshakes: [tls({ ip: '157.240.1.1' })] }),
      control({ addresses: [SITE_IP] }),
    );
    expectVerdict(a, 'accessible');
    expect(a.controlSummary.dnsConsistency).toBe('consistent');
  });

  it('a response body of similar length with a new title is not a diff (dynamic pages)', () => {
    const body = PAGE.replace('Facebook - log in or sign up', 'Something else entirely');
    expectVerdict(judge(observations({ httpRequests: [http({ body })] }), control()), 'accessible');
  });

  it('a much shorter body sharing a title word is not a diff', () => {
    const body = '<html><head><title>Facebook</title></head><body>short</body></html>';
    const a = judge(observations({ httpRequests: [http({ body })] }), control());
    expectVerdict(a, 'accessible');
    expect(a.controlSummary.bodyProportion).toBeLessThan(0.7);
    expect(a.controlSummary.titleMatch).toBe(true);
  });

  it('a redirect chain is followed to its final response', () => {
    const a = judge(
      observations({ httpRequests: [http({ url: 'https://facebook.com/', status: 301, body: '', location: URL_HTTPS }), http()] }),
      control(),
      { input: 'https://facebook.com/' },
    );
    expectVerdict(a, 'accessible');
  });
});

describe('AS0 never matches', () => {
  const wrong = '203.0.113.9'; // any address other than the control's
  const lab = parseCidrList('203.0.113.0/24');

  it('different addresses both in AS0 are inconsistent; a dead end makes it dns_inconsistent', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [wrong] })], tcpConnects: [tcp(wrong, 'connection_refused')], tlsHandshakes: [], httpRequests: [] }),
      control({ addresses: [[SITE_IP, 0]], probeAddresses: [[wrong, 0]] }),
      { verdictOptions: { labAddresses: lab } },
    );
    expectVerdict(a, 'dns', { blockingType: 'dns_inconsistent', anomaly: true, confirmed: false, failure: 'connection_refused', failedStep: 'tcp_connect' });
    expect(a.controlSummary.dnsConsistency).toBe('inconsistent');
  });

  it('an ASN known for the probe address but 0 for the control is no match either', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [wrong] })], tcpConnects: [tcp(wrong, 'generic_timeout_error')], tlsHandshakes: [], httpRequests: [] }),
      control({ addresses: [[SITE_IP, 0]], probeAddresses: [[wrong, 4242]] }),
      { verdictOptions: { labAddresses: lab } },
    );
    expectVerdict(a, 'dns', { blockingType: 'dns_inconsistent' });
  });

  it('inconsistent answers whose page matches the control are regional DNS: accessible', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [wrong] })], tcpConnects: [tcp(wrong, '', 0, 80)], tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP })] }),
      control({ addresses: [SITE_IP] }),
      { input: URL_HTTP, verdictOptions: { labAddresses: lab } },
    );
    expectVerdict(a, 'accessible', { anomaly: false });
    expect(a.controlSummary.dnsConsistency).toBe('inconsistent');
    expect(a.evidence.join('\n')).toContain('regional DNS');
  });
});

describe('dns', () => {
  it.each([
    ['dns_nxdomain_error', 3, 'dns_nxdomain'],
    ['dns_servfail_error', 2, 'dns_servfail'],
    ['dns_refused_error', 5, 'dns_refused'],
  ])('%s while the control resolved is dns (%s)', (failure, rcode, blockingType) => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ addresses: [], rcode, failure })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }), control());
    expectVerdict(a, 'dns', { blockingType, anomaly: true, confirmed: false, failure, failedStep: 'dns' });
  });

  it('a DNS timeout while the control resolved is dns_timeout', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ failure: 'generic_timeout_error' })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }), control());
    expectVerdict(a, 'dns', { blockingType: 'dns_timeout', failure: 'generic_timeout_error', failedStep: 'dns' });
  });

  it('an rcode alone (no failure string, e.g. an import) is enough', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ addresses: [], rcode: 3 })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }), control());
    expectVerdict(a, 'dns', { blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error' });
  });

  it('an AAAA query without answer does not hide a resolved A query', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ queryType: 'AAAA', addresses: [], failure: 'dns_no_answer' }), dnsQuery()] }), control());
    expectVerdict(a, 'accessible');
  });

  it('NXDOMAIN for the control too is down, not an anomaly', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [], rcode: 3, failure: 'dns_nxdomain_error' })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }),
      control({ dnsFailure: 'dns_nxdomain_error', tcp: [], tls: [], http: { statusCode: 0, failure: 'dns_nxdomain_error' } }),
    );
    expectVerdict(a, 'down', { anomaly: false, accessible: false, confirmed: false, failure: 'dns_nxdomain_error', failedStep: 'dns' });
  });

  describe('bogons', () => {
    it('a private answer while the control resolved publicly is a confirmed dns_bogon', () => {
      const a = judge(
        observations({ dnsQueries: [dnsQuery({ addresses: ['10.10.34.35'] })], tcpConnects: [tcp('10.10.34.35', 'generic_timeout_error')], tlsHandshakes: [], httpRequests: [] }),
        control(),
      );
      expectVerdict(a, 'dns', { blockingType: 'dns_bogon', anomaly: true, confirmed: true, failure: 'dns_bogon_error', failedStep: 'dns' });
    });

    it('loopback answers are bogons without the lab switch and normal with it', () => {
      const obs = observations({ dnsQueries: [dnsQuery({ addresses: ['127.0.0.1'] })], tcpConnects: [tcp('127.0.0.1')], tlsHandshakes: [tls({ ip: '127.0.0.1' })] });
      const ctl = control({ addresses: ['127.0.0.1'] });
      // The control got the same loopback address: the site's own DNS, not tampering.
      expectVerdict(judge(obs, ctl), 'accessible');
      const other = control({ addresses: ['127.0.0.2'] });
      expectVerdict(judge(obs, other), 'dns', { blockingType: 'dns_bogon', confirmed: true });
      expectVerdict(judge(obs, other, { verdictOptions: { labAddresses: parseCidrList('127.0.0.0/8') } }), 'accessible');
    });

    it('a bogon the control also got is not an anomaly', () => {
      const obs = observations({ dnsQueries: [dnsQuery({ addresses: ['192.168.1.10'] })], tcpConnects: [tcp('192.168.1.10', 'generic_timeout_error')], tlsHandshakes: [], httpRequests: [] });
      const a = judge(obs, control({ addresses: ['192.168.1.10'], tcp: [['192.168.1.10', 'generic_timeout_error']], tls: [], http: { statusCode: 0, failure: 'generic_timeout_error' } }));
      expectVerdict(a, 'down', { anomaly: false });
      expect(a.evidence.join('\n')).toContain('control.dns also got');
    });
  });

  describe('injection', () => {
    it('two responses with different answers to one query are a confirmed dns_injection', () => {
      const q = dnsQuery({ responses: [response(['95.59.0.99']), response([SITE_IP])] });
      const a = judge(observations({ dnsQueries: [q], tcpConnects: [tcp('95.59.0.99', 'connection_reset')], tlsHandshakes: [], httpRequests: [] }), control());
      expectVerdict(a, 'dns', { blockingType: 'dns_injection', anomaly: true, confirmed: true });
      expect(a.evidence[0]).toMatch(/^dns_queries\[0\].*2 responses/);
    });

    it('identical duplicate responses (a retransmission) are not injection', () => {
      const q = dnsQuery({ responses: [response([SITE_IP]), response([SITE_IP])] });
      const events = [{ kind: 'dns_duplicate_response', detail: '2 responses (1 distinct)', tMs: 11 }];
      expectVerdict(judge(observations({ dnsQueries: [q], networkEvents: events }), control()), 'accessible');
    });

    it('a dns_duplicate_response event counts when the responses themselves were not kept', () => {
      const events = [{ kind: 'dns_duplicate_response', detail: 'differing answers', tMs: 11 }];
      const a = judge(observations({ networkEvents: events }), control());
      expectVerdict(a, 'dns', { blockingType: 'dns_injection', confirmed: true });
      expect(a.evidence[0]).toContain('network_events[0]');
    });

    it('a response with a wrong query id is not used as the answer', () => {
      const forged = { ...response(['10.0.0.1']), idMatches: false };
      const q = dnsQuery({ responses: [forged, response([SITE_IP])] });
      const a = judge(observations({ dnsQueries: [q] }), control());
      // The differing forged answer is injection evidence; the stub used the genuine one.
      expectVerdict(a, 'dns', { blockingType: 'dns_injection' });
      expect(a.failure).toBe('');
    });
  });
});

describe('tcp_ip', () => {
  it.each([
    ['connection_reset', 'tcp_reset'],
    ['generic_timeout_error', 'tcp_timeout'],
    ['connection_refused', 'tcp_refused'],
  ])('%s to every address while the control connects is tcp_ip (%s)', (failure, blockingType) => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [SITE_IP, '31.13.72.37'] })], tcpConnects: [tcp(SITE_IP, failure), tcp('31.13.72.37', failure)], tlsHandshakes: [], httpRequests: [] }),
      control({ addresses: [SITE_IP, '31.13.72.37'] }),
    );
    expectVerdict(a, 'tcp_ip', { blockingType, anomaly: true, confirmed: false, failure, failedStep: 'tcp_connect' });
    expect(a.evidence.join('\n')).toContain('same address');
  });

  it('one address failing while another connects is not blocking', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [SITE_IP, '2a03:2880:f12f:83:face:b00c:0:25de'] })], tcpConnects: [tcp('2a03:2880:f12f:83:face:b00c:0:25de', 'network_unreachable'), tcp()] }),
      control(),
    );
    expectVerdict(a, 'accessible');
  });

  it('every connect failing for the control too is down', () => {
    const a = judge(
      observations({ tcpConnects: [tcp(SITE_IP, 'generic_timeout_error')], tlsHandshakes: [], httpRequests: [] }),
      control({ tcp: [[SITE_IP, 'generic_timeout_error']], tls: [], http: { statusCode: 0, failure: 'generic_timeout_error' } }),
    );
    expectVerdict(a, 'down', { anomaly: false, failure: 'generic_timeout_error', failedStep: 'tcp_connect' });
  });
});

describe('tls', () => {
  it.each([
    ['connection_reset', 'sni_reset'],
    ['generic_timeout_error', 'sni_timeout'],
    ['eof_error', 'sni_eof'],
  ])('%s after the ClientHello while the control SNI completes on the same address is tls (%s)', (failure, blockingType) => {
    const a = judge(
      observations({ tlsHandshakes: [tls({ failure }), tls({ controlSni: true })], httpRequests: [http({ failure })] }),
      control(),
    );
    expectVerdict(a, 'tls', { blockingType, anomaly: true, confirmed: false, failure, failedStep: 'tls_handshake' });
    expect(a.evidence.join('\n')).toMatch(/tls_handshakes\[1\].*control SNI example\.org.*completed/);
  });

  it('a handshake failure with the control SNI failing too is tls_failure (not SNI-based)', () => {
    const a = judge(
      observations({ tlsHandshakes: [tls({ failure: 'connection_reset' }), tls({ controlSni: true, failure: 'connection_reset' })], httpRequests: [] }),
      control(),
    );
    expectVerdict(a, 'tls', { blockingType: 'tls_failure' });
  });

  it('a handshake that fails for the control too is down', () => {
    const a = judge(
      observations({ tlsHandshakes: [tls({ failure: 'ssl_failed_handshake' })], httpRequests: [] }),
      control({ tls: [{ ip: SITE_IP, failure: 'ssl_failed_handshake' }], http: { statusCode: 0, failure: 'ssl_failed_handshake' } }),
    );
    expectVerdict(a, 'down');
  });
});

describe('interception', () => {
  let pki: InterceptionPki;
  let reference: VerdictReference;
  beforeAll(() => {
    pki = makeInterceptionPki();
    reference = { ...BASE, interceptionRoots: loadInterceptionRoots([pki.stateRoot.pem]) };
  });
  afterAll(() => pki.cleanup());

  function intercepted(chain: Uint8Array[], verificationError = 'ssl_unknown_authority'): Observations {
    return observations({ tlsHandshakes: [tls({ chain, verificationError })], httpRequests: [] });
  }
  const ctl = (): Control => control({ tls: [{ ip: SITE_IP, leaf: pki.honestLeaf.der }] });

  it('a chain that does not validate while the control validates is interception, unconfirmed, with the issuer CN', () => {
    const a = judge(intercepted([pki.leafViaIntermediate.der, pki.intermediate.der]), ctl());
    expectVerdict(a, 'interception', {
      blockingType: 'tls_mitm', anomaly: true, confirmed: false, interceptionIssuerCn: 'Security Certificate', failure: 'ssl_unknown_authority', failedStep: 'tls_handshake',
    });
  });

  it('is confirmed when the leaf alone was sent and it was issued by a known root (issuer + signature)', () => {
    const a = judge(intercepted([pki.leafViaRoot.der]), ctl(), { reference });
    expectVerdict(a, 'interception', { confirmed: true, interceptionIssuerCn: 'Lab State Root', blockingType: 'tls_mitm' });
    expect(a.evidence[0]).toContain('signature verified');
  });

  it('is confirmed through an intermediate issued by the known root', () => {
    const a = judge(intercepted([pki.leafViaIntermediate.der, pki.intermediate.der]), ctl(), { reference });
    expectVerdict(a, 'interception', { confirmed: true, interceptionIssuerCn: 'Lab State Root' });
  });

  it('is confirmed even when the interception root is trusted locally (no verification error) and without a control', () => {
    const a = judge(intercepted([pki.leafViaRoot.der], ''), control({ failure: 'generic_timeout_error' }), { reference });
    expectVerdict(a, 'interception', { confirmed: true, anomaly: true });
    expect(a.evidence[0]).toContain('trusted on this machine');
  });

  it('a forged issuer with the known root\'s name but another key does not confirm', () => {
    const a = judge(intercepted([pki.leafViaForged.der]), ctl(), { reference });
    expectVerdict(a, 'interception', { confirmed: false, interceptionIssuerCn: 'Lab State Root' });
  });

  it('the same leaf as the control (a local trust problem) is not interception', () => {
    const obs = observations({ tlsHandshakes: [tls({ chain: [pki.honestLeaf.der], verificationError: 'ssl_unknown_authority' })], httpRequests: [http()] });
    const a = judge(obs, ctl(), { reference });
    expectVerdict(a, 'accessible', { failure: '', failedStep: '' });
    expect(a.evidence.join('\n')).toContain('local trust-store problem');
  });

  it('a known root\'s chain the control also gets is the site\'s own certificate', () => {
    const obs = observations({ tlsHandshakes: [tls({ chain: [pki.leafViaRoot.der] })] });
    expectVerdict(judge(obs, control({ tls: [{ ip: SITE_IP, leaf: pki.leafViaRoot.der }] }), { reference }), 'accessible');
  });

  it('an invalid chain that the control cannot validate either is down', () => {
    const a = judge(intercepted([pki.leafViaForged.der]), control({ tls: [{ ip: SITE_IP, valid: false, leaf: pki.honestLeaf.der }], http: null }));
    expectVerdict(a, 'down', { anomaly: false });
  });
});

describe('blockpage', () => {
  const blockBody = '<html><head><title>Блокировка</title></head><body>Доступ к ресурсу ограничен</body></html>';

  it('a body matching a fingerprint is a confirmed blockpage with the fingerprint id', () => {
    const a = judge(observations({ httpRequests: [http({ body: blockBody })] }), control());
    expectVerdict(a, 'blockpage', { blockingType: 'http_blockpage', anomaly: true, confirmed: true, fingerprintId: 'test.kz_body', failure: '', failedStep: '' });
  });

  it('a 302 to a fingerprinted blockpage host is a confirmed blockpage', () => {
    const a = judge(
      observations({ tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP, status: 302, body: '', location: 'http://blocked.lab/?u=facebook' }), http({ url: 'http://blocked.lab/?u=facebook', body: '<html>sorry</html>' })] }),
      control(),
      { input: URL_HTTP },
    );
    expectVerdict(a, 'blockpage', { confirmed: true, fingerprintId: 'test.kz_location' });
    expect(a.evidence[0]).toContain('header location');
  });

  it('is confirmed without a control too', () => {
    expectVerdict(judge(observations({ httpRequests: [http({ body: blockBody })] }), undefined), 'blockpage', { confirmed: true });
  });

  it('a false-positive (fp) fingerprint never makes a blockpage', () => {
    // test.fp_title matches the honest page itself.
    expectVerdict(judge(observations(), control()), 'accessible');
  });

  it('a strong fingerprint on a page the control also got is not a blockpage', () => {
    const body = `<!-- protected by DDOS-GUARD -->${PAGE}`;
    const a = judge(observations({ httpRequests: [http({ body })] }), control({ http: { bodySha256: sha(body), bodyLength: body.length } }));
    expectVerdict(a, 'accessible');
    expect(a.evidence.join('\n')).toContain('test.cdn_name');
  });

  it('a vague (vbw) fingerprint counts only when the page differs, and never confirms', () => {
    const vagueBlock = '<html><head><title>Website Blocked</title></head><body>Website Blocked</body></html>';
    expectVerdict(judge(observations({ httpRequests: [http({ body: vagueBlock })] }), control()), 'blockpage', { confirmed: false, fingerprintId: 'test.vague' });
    const vagueInPage = PAGE.replace('</body>', 'Website Blocked</body>');
    expectVerdict(judge(observations({ httpRequests: [http({ body: vagueInPage })] }), control()), 'accessible');
  });

  it('a DNS answer matching a DNS fingerprint is a confirmed blockpage (dns_blockpage)', () => {
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: ['95.59.0.10'] })], tcpConnects: [tcp('95.59.0.10')], tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP, body: '<html>stop</html>' })] }),
      control(),
      { input: URL_HTTP },
    );
    expectVerdict(a, 'blockpage', { blockingType: 'dns_blockpage', confirmed: true, fingerprintId: 'test.dns_kz' });
  });

  it('a vague DNS fingerprint (127.0.0.1) alone decides nothing', () => {
    const obs = observations({ dnsQueries: [dnsQuery({ addresses: ['127.0.0.1'] })], tcpConnects: [tcp('127.0.0.1')], tlsHandshakes: [tls({ ip: '127.0.0.1' })] });
    expectVerdict(judge(obs, control({ addresses: ['127.0.0.1'] }), { verdictOptions: { labAddresses: parseCidrList('127.0.0.0/8') } }), 'accessible');
  });
});

describe('http-failure and http-diff', () => {
  it.each([
    ['connection_reset', 'http_reset'],
    ['eof_error', 'http_eof'],
    ['generic_timeout_error', 'http_timeout'],
  ])('%s after the request while the control fetched the page is http-failure (%s)', (failure, blockingType) => {
    const a = judge(observations({ tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP, failure })] }), control(), { input: URL_HTTP });
    expectVerdict(a, 'http-failure', { blockingType, anomaly: true, confirmed: false, failure, failedStep: 'http_request' });
  });

  it('an HTTP failure for the control too is down', () => {
    const a = judge(observations({ httpRequests: [http({ failure: 'generic_timeout_error' })] }), control({ http: { statusCode: 0, failure: 'generic_timeout_error' } }));
    expectVerdict(a, 'down', { anomaly: false, failure: 'generic_timeout_error', failedStep: 'http_request' });
  });

  it('HTTPS server-side blocking (403 to this vantage, 200 to the control) is http-diff', () => {
    const body = '<html><head><title>Forbidden</title></head><body>Access denied for your region</body></html>';
    const a = judge(observations({ httpRequests: [http({ status: 403, body })] }), control());
    expectVerdict(a, 'http-diff', { blockingType: 'http_diff', anomaly: true, confirmed: false, failure: '', failedStep: '' });
    expect(a.controlSummary).toMatchObject({ statusCodeMatch: false, controlStatusCode: 200 });
    expect(a.evidence[0]).toContain('status 403 vs control 200');
  });

  it('a short body with no shared title word is http-diff', () => {
    const body = '<html><head><title>Уведомление</title></head><body>Ресурс недоступен</body></html>';
    const a = judge(observations({ httpRequests: [http({ body })] }), control());
    expectVerdict(a, 'http-diff', { blockingType: 'http_diff' });
    expect(a.controlSummary.titleMatch).toBe(false);
  });
});

describe('throttled', () => {
  // 256 KiB body; control fetched it at 2 MB/s.
  const SIZE = 256 * 1024;
  const ctl = (): Control => control({ http: { bodyLength: SIZE, bodySha256: sha('big'), throughputBps: 2_000_000 } });
  const download = (bytesPerSecond: number, p: { failure?: string; size?: number } = {}): Observations => {
    const size = p.size ?? SIZE;
    const seconds = size / bytesPerSecond;
    return observations({
      httpRequests: [http({
        body: PAGE, bodyLength: size, truncated: false, failure: p.failure ?? '',
        throughput: [[100, 1000], [100 + seconds * 500, 1000 + size / 2], [100 + seconds * 1000, 1000 + size]].map(([t, b]) => [t ?? 0, Math.round(b ?? 0)] as [number, number]),
      })],
    });
  };

  it('below 10% of the control\'s throughput is throttled', () => {
    const a = judge(download(12_500), ctl());
    expectVerdict(a, 'throttled', { blockingType: 'throttling', anomaly: true, confirmed: false, failure: '' });
    expect(a.controlSummary.throughputRatio).toBeCloseTo(12_500 / 2_000_000, 3);
  });

  it('just above 10% is not', () => {
    const a = judge(download(220_000), ctl());
    expectVerdict(a, 'accessible');
    expect(a.controlSummary.throughputRatio).toBeCloseTo(0.11, 2);
  });

  it('is not judged below the minimum size', () => {
    expectVerdict(judge(download(1_000, { size: 16 * 1024 }), control({ http: { bodyLength: 16 * 1024, throughputBps: 2_000_000 } })), 'accessible');
    expectVerdict(judge(download(1_000), control({ http: { bodyLength: 1024, throughputBps: 2_000_000 } })), 'accessible');
    // The minimum is an option.
    expectVerdict(judge(download(1_000, { size: 16 * 1024 }), control({ http: { bodyLength: 16 * 1024, throughputBps: 2_000_000 } }), { verdictOptions: { throttlingMinBytes: 8 * 1024 } }), 'throttled');
  });

  it('a download cut by the time cap while bytes trickled in is throttled, not http-failure', () => {
    expectVerdict(judge(download(5_000, { failure: 'generic_timeout_error' }), ctl()), 'throttled', { failure: 'generic_timeout_error', failedStep: 'http_request' });
  });
});

describe('retries', () => {
  it('a TCP failure that disappears on retry is not an anomaly; both attempts are named', () => {
    const a = judge(observations({ tcpConnects: [tcp(SITE_IP, 'connection_reset', 0), tcp(SITE_IP, '', 1)] }), control());
    expectVerdict(a, 'accessible', { anomaly: false, failure: '' });
    expect(a.evidence[0]).toMatch(/tcp_connects\[0\].*connection_reset.*tcp_connects\[1\] succeeded/);
  });

  it('a DNS timeout then an answer, and an HTTP reset then a page, are accessible', () => {
    const a = judge(observations({
      dnsQueries: [dnsQuery({ failure: 'generic_timeout_error' }), dnsQuery({ attempt: 1 })],
      httpRequests: [http({ failure: 'connection_reset' }), http({ attempt: 1 })],
    }), control());
    expectVerdict(a, 'accessible');
    expect(a.evidence.filter((e) => e.includes("the retry's result stands"))).toHaveLength(2);
  });

  it('a TLS reset that the retry sees again stays an anomaly', () => {
    const a = judge(observations({
      tlsHandshakes: [tls({ failure: 'connection_reset' }), tls({ controlSni: true }), tls({ failure: 'connection_reset', attempt: 1 })],
      httpRequests: [],
    }), control());
    expectVerdict(a, 'tls', { blockingType: 'sni_reset' });
    expect(a.evidence[0]).toContain('failed with connection_reset');
  });

  it('a success followed by a failed retry: the retry stands', () => {
    const a = judge(observations({ tcpConnects: [tcp(SITE_IP, '', 0), tcp(SITE_IP, 'connection_reset', 1)], tlsHandshakes: [], httpRequests: [] }), control());
    expectVerdict(a, 'tcp_ip', { blockingType: 'tcp_reset' });
  });
});

describe('without a control', () => {
  const noControl = (): Control => ({ failure: 'connection_refused' });

  it('a failure is undetermined: no verdict, no anomaly, and the evidence says why', () => {
    const a = judge(observations({ tcpConnects: [tcp(SITE_IP, 'connection_reset')], tlsHandshakes: [], httpRequests: [] }), noControl());
    expect(a).toMatchObject({ verdict: '', anomaly: false, confirmed: false, accessible: false, failure: 'connection_reset', failedStep: 'tcp_connect' });
    expect(a.controlSummary).toMatchObject({ controlOk: false, controlFailure: 'connection_refused', dnsConsistency: 'unknown' });
    expect(a.evidence.join('\n')).toContain('no control (connection_refused)');
  });

  it('a missing control is treated the same', () => {
    const a = judge(observations({ httpRequests: [http({ failure: 'connection_reset' })] }), undefined);
    expect(a.verdict).toBe('');
    expect(a.evidence.join('\n')).toContain('no control measurement attached');
  });

  it('a fetched page is accessible, unconfirmed', () => {
    expectVerdict(judge(observations(), noControl()), 'accessible', { anomaly: false, confirmed: false });
  });

  it('a bogon is still an anomaly, but not confirmed', () => {
    const a = judge(observations({ dnsQueries: [dnsQuery({ addresses: ['10.10.34.35'] })], tcpConnects: [], tlsHandshakes: [], httpRequests: [] }), noControl());
    expectVerdict(a, 'dns', { blockingType: 'dns_bogon', anomaly: true, confirmed: false });
  });
});

describe('the probe\'s own limits', () => {
  it('an address refused by the egress policy is undetermined, not tcp_ip', () => {
    const a = judge(observations({ tcpConnects: [tcp(SITE_IP, 'blocked_by_policy')], tlsHandshakes: [], httpRequests: [] }), control());
    expect(a).toMatchObject({ verdict: '', anomaly: false, failure: 'blocked_by_policy' });
    expect(a.evidence.join('\n')).toContain('--allow-net');
  });

  it('no observations at all is undetermined', () => {
    const a = judge({ dnsQueries: [], tcpConnects: [], tlsHandshakes: [], httpRequests: [], networkEvents: [] }, control());
    expect(a.verdict).toBe('');
  });
});

describe('purity', () => {
  it('the same input gives the same analysis and the input is not modified', () => {
    const obs = observations({ tcpConnects: [tcp(SITE_IP, 'connection_reset', 0), tcp(SITE_IP, '', 1)] });
    const ctl = control();
    const before = JSON.stringify([obs, ctl], (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    expect(judge(obs, ctl)).toEqual(judge(obs, ctl));
    expect(JSON.stringify([obs, ctl], (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))).toBe(before);
  });

  it('analyses a decoded wire Measurement directly', () => {
    const bytes = wire.Measurement.encode({ input: URL_HTTPS, domain: DOMAIN, observations: observations({ tcpConnects: [tcp(SITE_IP, 'connection_reset')], tlsHandshakes: [], httpRequests: [] }), control: control() }).finish();
    const decoded = wire.Measurement.decode(bytes);
    expectVerdict(verdictFor({ measurement: decoded, reference: BASE }), 'tcp_ip', { blockingType: 'tcp_reset' });
  });
});
