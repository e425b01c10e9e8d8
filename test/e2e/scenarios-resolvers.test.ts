import { describe, expect, it } from 'vitest';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// Several resolvers, measured by the real probe engine against the real
// control: the ISP's resolver (the probe's system resolver, --resolver) and
// a public one outside the censor's networks (--third-party-resolver). The
// system resolver decides; the public one shows whether circumvention works.

const e2e = useProbeLab();
const { censor } = e2e;

type DnsQueryJson = { resolver: string; query_type: string; third_party_resolver: boolean; failure: string | null };

describe('e2e: several resolvers', () => {
  it('the ISP resolver answers NXDOMAIN, the public one answers and the page comes through it: dns/dns_nxdomain', async () => {
    censor('www.facebook.com', { kind: 'dns-nxdomain' });
    const { lab } = e2e.rig;
    const m = await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { thirdPartyResolver: true });
    expect(verdictOf(m)).toEqual({
      verdict: 'dns', blockingType: 'dns_nxdomain', anomaly: true, confirmed: false, failure: 'dns_nxdomain_error', failedStep: 'dns',
    });
    const queries = (m['observations'] as { dns_queries: DnsQueryJson[] }).dns_queries;
    expect(queries.filter((q) => !q.third_party_resolver).every((q) => q.resolver === lab.resolver.address)).toBe(true);
    expect(queries.filter((q) => q.third_party_resolver).map((q) => [q.resolver, q.query_type]).sort()).toEqual([
      [lab.publicResolver.address, 'A'], [lab.publicResolver.address, 'AAAA'],
    ]);
    const evidence = ((m['analysis'] as { evidence: string[] }).evidence).join('\n');
    expect(evidence).toContain(`(third-party resolver ${lab.publicResolver.address}) answered ${lab.address('www.facebook.com')}`);
    expect(evidence).toMatch(/http_requests\[\d+\] \(https:\/\/www\.facebook\.com:\d+\/\?e2e=[^)]+\) fetched the page through it, matching control\.http/);
  });

  it('nothing blocked: both resolvers answer, accessible', async () => {
    const m = await e2e.rig.measure(e2e.rig.url('www.instagram.com'), { thirdPartyResolver: true });
    expect(verdictOf(m)).toEqual({ verdict: 'accessible', blockingType: '', anomaly: false, confirmed: false, failure: null, failedStep: '' });
  });

  it('injection on the path reaches the public resolver\'s answers too: dns/dns_injection', async () => {
    censor('youtube.com', { kind: 'dns-inject' });
    const m = await e2e.rig.measure(e2e.rig.url('youtube.com'), { thirdPartyResolver: true });
    expect(verdictOf(m)).toMatchObject({ verdict: 'dns', blockingType: 'dns_injection', anomaly: true, confirmed: true });
  });
});
