import { describe, expect, it } from 'vitest';
import { CDN_CHALLENGE_DOMAIN } from '../lab/src/index.js';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// The lab's shop sits behind a CDN that challenges in-country visitors
// ("Just a moment...", 403, cf-mitigated: challenge) and serves the control
// the page. The real probe against the real control: not censorship.

const e2e = useProbeLab();
const { censor } = e2e;

describe('e2e: a CDN challenge', () => {
  for (const scheme of ['https', 'http'] as const) {
    it(`over ${scheme.toUpperCase()}, a challenge is accessible with blocking type server_challenge, not an anomaly`, async () => {
      const m = await e2e.rig.measure(e2e.rig.url(CDN_CHALLENGE_DOMAIN, scheme));
      expect(verdictOf(m)).toEqual({ verdict: 'accessible', blockingType: 'server_challenge', anomaly: false, confirmed: false, failure: null, failedStep: '' });
      const analysis = m['analysis'] as { fingerprint_id: string; evidence: string[] };
      expect(analysis.fingerprint_id).toBe('challenge.cloudflare_cf_mitigated');
      expect(analysis.evidence.join('\n')).toContain('CDN challenge fingerprint challenge.cloudflare_cf_mitigated');
      // The probe kept what identifies the challenge.
      const headers = (m['observations'] as { http_requests: { response_headers: { name: string; value: string }[] }[] }).http_requests[0]?.response_headers ?? [];
      expect(headers).toContainEqual({ name: 'cf-mitigated', value: 'challenge' });
    });
  }

  it('a censor\'s blockpage on the same site is still a blockpage', async () => {
    censor(CDN_CHALLENGE_DOMAIN, { kind: 'http-blockpage' });
    const m = await e2e.rig.measure(e2e.rig.url(CDN_CHALLENGE_DOMAIN, 'http'));
    expect(verdictOf(m)).toMatchObject({ verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true });
  });
});
