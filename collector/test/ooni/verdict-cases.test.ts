import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AnalysisResult, decodeMeasurement, defaultVerdictReference, encodeMeasurement, verdictFor } from '@steppe/shared';
import { type ConvertedOoniMeasurement, convertOoniWebConnectivity } from '../../src/ooni/from-ooni.js';

// Steppe's verdict on OONI records where it used to be wrong: several
// resolvers, redirect chains in each version, the step that failed after a
// redirect, CDN challenges, and the deliberate differences from OONI. The
// fixtures are written from ooni/spec (ts-017, df-001) and the scenarios of
// ooni/probe-cli's webconnectivityqa; see fixtures/README.md.

const reference = defaultVerdictReference();

function convert(file: string, line: number): ConvertedOoniMeasurement {
  const text = readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8').split('\n')[line - 1] ?? '';
  const result = convertOoniWebConnectivity(JSON.parse(text));
  if (!result.ok) throw new Error(`${file}:${line} not converted: ${result.reason}`);
  return result.value;
}

function judge(file: string, line: number): { converted: ConvertedOoniMeasurement; analysis: AnalysisResult } {
  const converted = convert(file, line);
  const analysis = verdictFor({ measurement: converted.measurement, reference });
  // Whatever the rule, the result is a measurement the codec accepts.
  expect(decodeMeasurement(encodeMeasurement({ ...converted.measurement, analysis })).ok).toBe(true);
  return { converted, analysis };
}

type Case = [file: string, line: number, input: string, ooni: string | null, verdict: string, blockingType: string, failure: string, failedStep: string];

function check([file, line, input, ooni, verdict, blockingType, failure, failedStep]: Case): AnalysisResult {
  const { converted, analysis } = judge(file, line);
  expect(converted.measurement.input).toBe(input);
  expect(converted.ooni.blocking).toBe(ooni);
  expect(
    { verdict: analysis.verdict, blockingType: analysis.blockingType, failure: analysis.failure, failedStep: analysis.failedStep },
    analysis.evidence.join('\n'),
  ).toEqual({ verdict, blockingType, failure, failedStep });
  return analysis;
}

const RESOLVERS = 'web_connectivity-0.5-resolvers.jsonl';
const REDIRECTS = 'web_connectivity-redirects.jsonl';
const HOPS = 'web_connectivity-0.5-redirect-failures.jsonl';
const CHALLENGES = 'web_connectivity-challenges.jsonl';
const DIFFERENCES = 'web_connectivity-differences.jsonl';

describe('several resolvers: the system resolver decides', () => {
  it.each<Case>([
    [RESOLVERS, 1, 'https://www.azattyq.org/', 'dns', 'dns', 'dns_nxdomain', 'dns_nxdomain_error', 'dns'],
    [RESOLVERS, 2, 'https://www.azattyq.org/', 'dns', 'dns', 'dns_no_answer', 'dns_no_answer', 'dns'],
    [RESOLVERS, 3, 'https://www.azattyq.org/', 'false', 'accessible', '', '', ''],
  ])('%s line %i (%s): OONI %s, Steppe %s/%s', (...c) => {
    check(c);
  });

  it('records the third-party resolvers as such, and names them as circumvention in the evidence', () => {
    const { converted, analysis } = judge(RESOLVERS, 1);
    const queries = converted.measurement.observations?.dnsQueries ?? [];
    expect(queries.map((q) => [q.resolver, q.thirdPartyResolver])).toEqual([['', false], ['8.8.4.4:53', true], ['8.8.4.4:53', true]]);
    const evidence = analysis.evidence.join('\n');
    expect(evidence).toContain('dns_queries[0] failed with dns_nxdomain_error while control.dns resolved 151.139.128.10');
    expect(evidence).toContain('dns_queries[1] (third-party resolver 8.8.4.4:53) answered 151.139.128.10');
    expect(evidence).toContain('http_requests[0] (https://www.azattyq.org/) fetched the page through it, matching control.http');
  });

  it('before web_connectivity 0.5 every resolver is the system\'s (ts-017: all results are the classic algorithm\'s)', () => {
    const queries = convert('web_connectivity-0.2.jsonl', 1).measurement.observations?.dnsQueries ?? [];
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((q) => q.thirdPartyResolver === false)).toBe(true);
  });
});

describe('redirect chains, in the order each OONI version writes `requests`', () => {
  it.each<Case>([
    // 0.5, most recent first; a hop to an empty path is requested without the "/".
    [REDIRECTS, 1, 'http://firefox.com/', 'false', 'accessible', '', '', ''],
    // 0.4, most recent first (Go's http.Client).
    [REDIRECTS, 2, 'http://www.nur.kz/', 'false', 'accessible', '', '', ''],
    // 0.1, one entry per attempt, in order: the retry's page stands.
    [REDIRECTS, 3, 'http://www.zakon.kz/', 'false', 'accessible', '', '', ''],
  ])('%s line %i (%s): OONI %s, Steppe %s', (...c) => {
    check(c);
  });

  it('puts the hops in the order they were made and compares the final one with the control\'s page', () => {
    const { converted, analysis } = judge(REDIRECTS, 1);
    expect((converted.measurement.observations?.httpRequests ?? []).map((h) => [h.url, h.statusCode])).toEqual([
      ['http://firefox.com/', 301],
      ['https://www.firefox.com', 301],
      ['https://www.mozilla.org/firefox/', 302],
      ['https://www.mozilla.org/en-US/firefox/', 200],
    ]);
    expect(analysis.evidence.join('\n')).toContain('http_requests[3] (https://www.mozilla.org/en-US/firefox/) matches control.http (status 200');
  });

  it('keeps legacy 0.1 attempts in order: the failed first attempt, then the retry', () => {
    const { converted, analysis } = judge(REDIRECTS, 3);
    expect((converted.measurement.observations?.httpRequests ?? []).map((h) => [h.failure, h.statusCode])).toEqual([['eof_error', 0], ['', 200]]);
    expect(analysis.evidence.join('\n')).toContain('its retry http_requests[1] succeeded: the retry\'s result stands');
  });
});

describe('which step failed after a redirect', () => {
  it.each<Case>([
    [HOPS, 1, 'https://bit.ly/21645', 'dns', 'dns', 'dns_nxdomain', 'dns_nxdomain_error', 'dns'],
    [HOPS, 2, 'https://bit.ly/32447', 'http-failure', 'tcp_ip', 'tcp_refused', 'connection_refused', 'tcp_connect'],
    [HOPS, 3, 'https://bit.ly/21645', 'http-failure', 'tls', 'tls_failure', 'connection_reset', 'tls_handshake'],
    [HOPS, 4, 'https://bit.ly/21645', 'http-failure', 'tls', 'tls_failure', 'eof_error', 'tls_handshake'],
    [HOPS, 5, 'https://bit.ly/21645', 'http-failure', 'tls', 'tls_failure', 'generic_timeout_error', 'tls_handshake'],
    [HOPS, 6, 'https://bit.ly/32447', 'http-failure', 'http-failure', 'http_reset', 'connection_reset', 'http_request'],
    [HOPS, 7, 'https://bit.ly/32447', 'http-failure', 'http-failure', 'http_eof', 'eof_error', 'http_request'],
  ])('%s line %i (%s): OONI %s, Steppe %s/%s', (...c) => {
    check(c);
  });

  it('names the hop and the observation that failed, not the redirect response', () => {
    const nxdomain = judge(HOPS, 1).analysis.evidence.join('\n');
    expect(nxdomain).toContain('http_requests[0] (https://bit.ly/21645) redirected to https://www.example.com/, and that hop failed at dns: dns_queries[2] (www.example.com) failed with dns_nxdomain_error');
    expect(nxdomain).toContain('control.http followed the redirects to the page: status 200');
    expect(nxdomain).not.toContain('differs from control.http');
    const refused = judge(HOPS, 2).analysis.evidence.join('\n');
    expect(refused).toContain('every TCP connect to www.example.com:80 failed (tcp_connects[2] (93.184.215.14:80): connection_refused)');
    const reset = judge(HOPS, 3).analysis.evidence.join('\n');
    expect(reset).toContain('every TLS handshake with SNI www.example.com failed (tls_handshakes[2] (SNI www.example.com to 93.184.215.14:443): connection_reset)');
  });
});

describe('CDN challenge pages are not censorship', () => {
  it.each<Case>([
    [CHALLENGES, 1, 'http://www.cloudflare-cache.com/', 'http-diff', 'accessible', 'server_challenge', '', ''],
    [CHALLENGES, 2, 'https://www.cloudflare-cache.com/', 'false', 'accessible', 'server_challenge', '', ''],
    // OONI's fingerprint list files this interstitial as a product blockpage (ooni.in_6): not here.
    [CHALLENGES, 3, 'https://www.bjp.org/', 'http-diff', 'accessible', 'server_challenge', '', ''],
    [CHALLENGES, 4, 'https://kolesa.kz/', 'false', 'accessible', 'server_challenge', '', ''],
    // The control was challenged, the probe got the page: nothing to compare, not a diff.
    [CHALLENGES, 5, 'https://www.cloudflare-cache.com/', 'false', 'accessible', '', '', ''],
  ])('%s line %i (%s): OONI %s, Steppe %s/%s', (...c) => {
    const analysis = check(c);
    expect(analysis.anomaly).toBe(false);
  });

  it('says which challenge fingerprint matched, with its source', () => {
    expect(judge(CHALLENGES, 1).analysis.fingerprintId).toBe('challenge.cloudflare_chl_opt');
    const https = judge(CHALLENGES, 2).analysis;
    expect(https.fingerprintId).toBe('challenge.cloudflare_cf_mitigated');
    expect(https.evidence.join('\n')).toContain('header cf-mitigated matches the CDN challenge fingerprint challenge.cloudflare_cf_mitigated (Cloudflare documentation)');
    expect(https.evidence.join('\n')).toContain('served over HTTPS');
    expect(judge(CHALLENGES, 4).analysis.fingerprintId).toBe('challenge.aws_waf_challenge');
    const pleaseWait = judge(CHALLENGES, 3).analysis.evidence.join('\n');
    expect(pleaseWait).toContain('matches blockpage fingerprint ooni.in_6, but it is a CDN challenge page');
    expect(judge(CHALLENGES, 5).analysis.evidence.join('\n')).toContain('control.http got a CDN challenge page (title "Just a moment..."');
  });
});

describe('deliberate differences from OONI', () => {
  it('ISP NXDOMAIN hijacking: the name does not exist for the control, the ISP answered anyway: down, not dns', () => {
    const analysis = check([DIFFERENCES, 1, 'http://www.respublika-kaz.info/', 'dns', 'down', '', '', '']);
    expect(analysis.anomaly).toBe(false);
    expect(analysis.evidence.join('\n')).toContain('NXDOMAIN hijacking');
  });
});
