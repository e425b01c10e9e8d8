import { describe, expect, it } from 'vitest';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// The honest Internet and what is not censorship: every site accessible from
// every network, a site down for everyone, a flaky site, and a network shut
// down entirely. Real probe engine, real control.

const DOMAINS = ['facebook.com', 'www.facebook.com', 'instagram.com', 'www.instagram.com', 'youtube.com', 'www.youtube.com', 'vlast.kz'];
const ACCESSIBLE = { verdict: 'accessible', blockingType: '', anomaly: false, confirmed: false, failure: null, failedStep: '' };

const e2e = useProbeLab();

describe('e2e: honest sites are accessible', () => {
  for (const domain of DOMAINS) {
    it(`${domain} over HTTPS is accessible`, async () => {
      expect(verdictOf(await e2e.rig.measure(e2e.rig.url(domain)))).toEqual(ACCESSIBLE);
    });
  }

  it('the news site over plain HTTP is accessible, from every in-country network', async () => {
    for (const network of ['kazakhtelecom', 'beeline', 'kcell']) {
      expect(verdictOf(await e2e.rig.measure(e2e.rig.url('vlast.kz', 'http'), { network })), network).toEqual(ACCESSIBLE);
    }
  });

  it('a rule for one network leaves the others alone', async () => {
    e2e.rig.lab.censor.apply({ domains: 'www.facebook.com', networks: ['beeline'], behaviour: { kind: 'sni-reset' } });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'kcell' }))).toEqual(ACCESSIBLE);
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'beeline' }))).toMatchObject({ verdict: 'tls', blockingType: 'sni_reset' });
  });
});

describe('e2e: what is not censorship', () => {
  it('a site down for everyone (the control fails too) is down, not an anomaly', async () => {
    e2e.rig.lab.censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'down' } });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('vlast.kz')))).toEqual({
      verdict: 'down', blockingType: '', anomaly: false, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake',
    });
  });

  it('a site that hangs for everyone is down too', async () => {
    e2e.rig.lab.censor.apply({ domains: 'www.instagram.com', networks: 'everyone', behaviour: { kind: 'down', mode: 'timeout' } });
    // A budget long enough for the control's own 5 s timeout to come back as its answer.
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.instagram.com'), { timeoutMs: 8000 }))).toEqual({
      verdict: 'down', blockingType: '', anomaly: false, confirmed: false, failure: 'generic_timeout_error', failedStep: 'tls_handshake',
    });
  });

  it('a flaky site (the first attempt fails, the retry succeeds) is not an anomaly', async () => {
    e2e.rig.lab.censor.apply({ domains: 'youtube.com', networks: 'in-country', behaviour: { kind: 'flaky' } });
    const source = e2e.rig.source();
    const m = await e2e.rig.measure(e2e.rig.url('youtube.com'), { source });
    expect(verdictOf(m)).toEqual(ACCESSIBLE);
    // The lab did fail the first attempt, and the failed attempt and its retry are both on record.
    expect(e2e.rig.lab.log.count({ source, action: 'flaky-reset' })).toBe(1);
    const evidence = (m['analysis'] as { evidence: string[] }).evidence.join('\n');
    expect(evidence).toMatch(/\(attempt 0\) failed with connection_reset; its retry .* succeeded: the retry's result stands/);
  });

  it('a site flaky for everyone, control included, is not an anomaly either', async () => {
    e2e.rig.lab.censor.apply({ domains: 'www.youtube.com', networks: 'everyone', behaviour: { kind: 'flaky' } });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.youtube.com')))).toMatchObject({ anomaly: false, confirmed: false });
  });

  it('a network shut down entirely: its probe\'s DNS times out (dns/dns_timeout), other networks are fine', async () => {
    e2e.rig.lab.censor.shutdown('kcell');
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'kcell', timeoutMs: 5000 }))).toEqual({
      verdict: 'dns', blockingType: 'dns_timeout', anomaly: true, confirmed: false, failure: 'generic_timeout_error', failedStep: 'dns',
    });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { network: 'beeline' }))).toEqual(ACCESSIBLE);
  });
});
