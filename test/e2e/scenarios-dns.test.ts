import { describe, expect, it } from 'vitest';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// DNS censorship in the loopback tier, measured by the real probe engine
// against the real control (`steppe-collector control`): each scenario's
// exact verdict, blocking type, confirmation and failure.

const e2e = useProbeLab();
const { censor } = e2e;

describe('e2e: DNS censorship', () => {
  it('NXDOMAIN for the in-country resolver is dns/dns_nxdomain', async () => {
    censor('www.facebook.com', { kind: 'dns-nxdomain' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com')))).toEqual({
      verdict: 'dns', blockingType: 'dns_nxdomain', anomaly: true, confirmed: false, failure: 'dns_nxdomain_error', failedStep: 'dns',
    });
  });

  it('SERVFAIL is dns/dns_servfail', async () => {
    censor('www.facebook.com', { kind: 'dns-servfail' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com')))).toEqual({
      verdict: 'dns', blockingType: 'dns_servfail', anomaly: true, confirmed: false, failure: 'dns_servfail_error', failedStep: 'dns',
    });
  });

  it('REFUSED is dns/dns_refused', async () => {
    censor('instagram.com', { kind: 'dns-refused' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('instagram.com')))).toEqual({
      verdict: 'dns', blockingType: 'dns_refused', anomaly: true, confirmed: false, failure: 'dns_refused_error', failedStep: 'dns',
    });
  });

  it('silence is dns/dns_timeout', async () => {
    censor('youtube.com', { kind: 'dns-timeout' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('youtube.com'), { timeoutMs: 5000 }))).toEqual({
      verdict: 'dns', blockingType: 'dns_timeout', anomaly: true, confirmed: false, failure: 'generic_timeout_error', failedStep: 'dns',
    });
  });

  it('a wrong answer (the blockpage server) over HTTPS: inconsistent DNS, the certificate does not match', async () => {
    censor('www.facebook.com', { kind: 'dns-wrong-answer' });
    const m = await e2e.rig.measure(e2e.rig.url('www.facebook.com'));
    expect(verdictOf(m)).toEqual({
      verdict: 'dns', blockingType: 'dns_inconsistent', anomaly: true, confirmed: false, failure: 'ssl_invalid_hostname', failedStep: 'tls_handshake',
    });
    expect((m['analysis'] as { control_summary: { dns_consistency: string } }).control_summary.dns_consistency).toBe('inconsistent');
  });

  it('a wrong answer over HTTP lands on the blockpage, which OONI\'s fingerprint confirms', async () => {
    censor('www.facebook.com', { kind: 'dns-wrong-answer' });
    const m = await e2e.rig.measure(e2e.rig.url('www.facebook.com', 'http'));
    expect(verdictOf(m)).toEqual({ verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true, failure: null, failedStep: '' });
    expect((m['analysis'] as { fingerprint_id: string }).fingerprint_id).toBe('cp.d_corp_kz_ps');
  });

  it('a bogon answer is dns/dns_bogon, confirmed', async () => {
    censor('vlast.kz', { kind: 'dns-wrong-answer', address: e2e.rig.lab.bogonAddress });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('vlast.kz')))).toEqual({
      verdict: 'dns', blockingType: 'dns_bogon', anomaly: true, confirmed: true, failure: 'dns_bogon_error', failedStep: 'dns',
    });
  });

  it('an injected answer racing the real one is dns/dns_injection, confirmed', async () => {
    censor('www.instagram.com', { kind: 'dns-inject' });
    const m = await e2e.rig.measure(e2e.rig.url('www.instagram.com'));
    expect(verdictOf(m)).toMatchObject({ verdict: 'dns', blockingType: 'dns_injection', anomaly: true, confirmed: true });
    // The probe kept both responses to its one query.
    const queries = (m['observations'] as { dns_queries: { query_type: string; responses: { answers: { value: string }[] }[] }[] }).dns_queries;
    const a = queries.find((q) => q.query_type === 'A');
    expect(a?.responses.map((r) => r.answers.map((x) => x.value))).toEqual([[e2e.rig.lab.blockpageAddress], [e2e.rig.lab.address('www.instagram.com')]]);
  });

  it('an injected bogon is dns/dns_injection, confirmed, failing with dns_bogon_error', async () => {
    censor('www.youtube.com', { kind: 'dns-inject', address: e2e.rig.lab.bogonAddress });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.youtube.com')))).toEqual({
      verdict: 'dns', blockingType: 'dns_injection', anomaly: true, confirmed: true, failure: 'dns_bogon_error', failedStep: 'dns',
    });
  });

  it('censorship follows the source network: Beeline censored, Kazakhtelecom not', async () => {
    censor('www.facebook.com', { kind: 'dns-nxdomain' }, ['beeline']);
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'beeline' }))).toMatchObject({ verdict: 'dns', failure: 'dns_nxdomain_error' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'kazakhtelecom' }))).toMatchObject({ verdict: 'accessible', anomaly: false });
  });
});
