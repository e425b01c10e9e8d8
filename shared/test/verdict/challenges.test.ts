import { describe, expect, it } from 'vitest';
import {
  type AnalysisResult,
  EMPTY_VERDICT_REFERENCE,
  SERVER_CHALLENGE,
  type VerdictReference,
  defaultVerdictReference,
  loadFingerprints,
  parseCidrList,
  verdictFor,
  withFingerprints,
} from '@steppe/shared';
import { DOMAIN, PAGE, SITE_IP, URL_HTTP, URL_HTTPS, type Control, type Observations, control, dnsQuery, http, observations, tcp } from './helpers/build.js';

// CDN challenge pages: the site's CDN asks the probe's region for a browser
// check. Not censorship: `accessible` with blocking type server_challenge.

const CHALLENGE = '<!DOCTYPE HTML><html><head><title>Just a moment...</title><script>window._cf_chl_opt={cvId:"2"};</script></head><body>Checking your browser</body></html>';
const CF_HEADERS: [string, string][] = [['content-type', 'text/html; charset=UTF-8'], ['server', 'cloudflare'], ['cf-ray', '68013f3b0c7d498b-ALA'], ['cf-mitigated', 'challenge']];
const bundled = defaultVerdictReference();

function judge(obs: Observations, ctl: Control | null = control(), options: { input?: string; reference?: VerdictReference } = {}): AnalysisResult {
  return verdictFor({
    measurement: { input: options.input ?? URL_HTTPS, domain: DOMAIN, observations: obs, control: ctl },
    reference: options.reference ?? bundled,
    options: { labAddresses: parseCidrList('203.0.113.0/24') },
  });
}

const challenged = (headers: [string, string][] = CF_HEADERS, status = 403): Observations => observations({ httpRequests: [http({ status, body: CHALLENGE, headers })] });

describe('CDN challenge pages', () => {
  it('a page with cf-mitigated: challenge is accessible/server_challenge, not an anomaly (the bundled data)', () => {
    const a = judge(challenged());
    expect({ verdict: a.verdict, blockingType: a.blockingType, anomaly: a.anomaly, fingerprintId: a.fingerprintId }, a.evidence.join('\n')).toEqual({
      verdict: 'accessible', blockingType: SERVER_CHALLENGE, anomaly: false, fingerprintId: 'challenge.cloudflare_cf_mitigated',
    });
    expect(a.evidence.join('\n')).toContain('the page behind it was not compared with control.http (status 200)');
  });

  it('the challenge page\'s own markup is enough where the header is missing (older Cloudflare pages)', () => {
    const a = judge(challenged([['content-type', 'text/html'], ['server', 'cloudflare']], 503));
    expect([a.verdict, a.blockingType, a.fingerprintId]).toEqual(['accessible', SERVER_CHALLENGE, 'challenge.cloudflare_chl_opt']);
  });

  it('without the challenge data, the same page is a diff: the data decides, nothing is guessed', () => {
    const a = judge(challenged(), control(), { reference: { ...bundled, challengeFingerprints: [] } });
    expect(a.verdict).toBe('http-diff');
  });

  it('an `fp` row vetoes: a page that only looks like a challenge stays a diff', () => {
    const header = 'name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n';
    const veto = loadFingerprints(`${header}test.cdn_block_page,fp,,body,contains,Checking your browser,5,,test,,\n`, '').http;
    const a = judge(challenged(), control(), { reference: withFingerprints(bundled, { challenge: veto }) });
    expect(a.verdict).toBe('http-diff');
  });

  it('with answers unrelated to the site\'s (inconsistent DNS), a challenge over HTTP is no excuse: dns_inconsistent', () => {
    const other = '203.0.113.9';
    const a = judge(
      observations({ dnsQueries: [dnsQuery({ addresses: [other] })], tcpConnects: [tcp(other, '', 0, 80)], tlsHandshakes: [], httpRequests: [http({ url: URL_HTTP, status: 403, body: CHALLENGE, headers: CF_HEADERS })] }),
      control({ addresses: [SITE_IP] }),
      { input: URL_HTTP },
    );
    expect([a.verdict, a.blockingType]).toEqual(['dns', 'dns_inconsistent']);
  });

  it('a blockpage fingerprint matching a challenge page (OONI files "Please Wait... | Cloudflare" as one) does not make it a blockpage', () => {
    const body = '<html><head><title>Please Wait... | Cloudflare</title></head><body>Checking your browser before accessing www.facebook.com.</body></html>';
    const a = judge(observations({ httpRequests: [http({ status: 503, body, headers: [['server', 'cloudflare']] })] }));
    expect([a.verdict, a.blockingType, a.confirmed]).toEqual(['accessible', SERVER_CHALLENGE, false]);
    expect(a.evidence.join('\n')).toMatch(/matches blockpage fingerprint ooni\.\w+, but it is a CDN challenge page/);
  });

  it('without a control, a challenge is still named', () => {
    const a = judge(challenged(), null);
    expect([a.verdict, a.blockingType]).toEqual(['accessible', SERVER_CHALLENGE]);
  });

  it('a challenged control leaves nothing to compare: accessible, no class', () => {
    const a = judge(observations(), control({ http: { statusCode: 403, title: 'Just a moment...', bodyLength: 4000, headerNames: ['server', 'cf-mitigated'] } }));
    expect([a.verdict, a.blockingType]).toEqual(['accessible', '']);
    expect(a.evidence.join('\n')).toContain('control.http got a CDN challenge page (title "Just a moment..."');
  });

  it('with no challenge data at all (EMPTY_VERDICT_REFERENCE), nothing is a challenge', () => {
    expect(judge(challenged(), control(), { reference: EMPTY_VERDICT_REFERENCE }).verdict).toBe('http-diff');
    expect(PAGE.length).toBeGreaterThan(CHALLENGE.length);
  });
});
