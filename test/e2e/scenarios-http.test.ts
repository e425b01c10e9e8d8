import { describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE_BPS } from '../lab/src/index.js';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// HTTP-level censorship in the loopback tier (blockpages, redirects, resets
// after the request, throttling), measured by the real probe engine against
// the real control.

// Pages of 40 KiB: above the verdict's 32 KiB minimum for comparing throughput.
const PAGE_BYTES = 40 * 1024;

const e2e = useProbeLab({ pageBytes: PAGE_BYTES });
const { censor } = e2e;

const BLOCKPAGE = { verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true, failure: null, failedStep: '' };

describe('e2e: HTTP censorship', () => {
  it('a blockpage served with status 200 is blockpage, confirmed by OONI\'s fingerprint', async () => {
    censor('youtube.com', { kind: 'http-blockpage' });
    const m = await e2e.rig.measure(e2e.rig.url('youtube.com', 'http'));
    expect(verdictOf(m)).toEqual(BLOCKPAGE);
    expect((m['analysis'] as { fingerprint_id: string }).fingerprint_id).toBe('cp.d_corp_kz_ps');
  });

  it('a blockpage served over HTTPS by the site itself (server-side blocking) is blockpage too', async () => {
    censor('www.youtube.com', { kind: 'http-blockpage' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.youtube.com', 'https')))).toEqual(BLOCKPAGE);
  });

  it('a 302 to the blockpage host is blockpage, confirmed', async () => {
    censor('vlast.kz', { kind: 'http-redirect' });
    const m = await e2e.rig.measure(e2e.rig.url('vlast.kz', 'http'));
    expect(verdictOf(m)).toEqual(BLOCKPAGE);
    // The probe followed the redirect hop by hop.
    const requests = (m['observations'] as { http_requests: { url: string; status_code: number }[] }).http_requests;
    expect(requests.map((r) => r.status_code)).toEqual([302, 200]);
    expect(requests[1]?.url).toContain('block.steppe.test');
  });

  it('a reset after the request is http-failure/http_reset (HTTP and HTTPS)', async () => {
    censor('www.facebook.com', { kind: 'http-reset' });
    for (const scheme of ['http', 'https'] as const) {
      expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com', scheme))), scheme).toEqual({
        verdict: 'http-failure', blockingType: 'http_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'http_request',
      });
    }
  });

  it(`throttling to ${DEFAULT_THROTTLE_BPS / 1000} kbit/s is throttled`, async () => {
    censor('www.youtube.com', { kind: 'throttle' });
    const m = await e2e.rig.measure(e2e.rig.url('www.youtube.com'), { timeoutMs: 20_000 });
    expect(verdictOf(m)).toEqual({ verdict: 'throttled', blockingType: 'throttling', anomaly: true, confirmed: false, failure: null, failedStep: '' });
    const ratio = (m['analysis'] as { control_summary: { throughput_ratio: number } }).control_summary.throughput_ratio;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(0.1);
  });

  it('an honest page above the throughput minimum is not throttled (no false positive from timer noise)', async () => {
    // Five honest fetches of a 40 KiB page: on loopback each takes about a
    // millisecond, so a 10 ms pause of the event loop makes its throughput
    // look 10x lower than the control's. A ratio of two such numbers is
    // noise, not throttling, and must never read as censorship.
    const verdicts: unknown[] = [];
    for (let i = 0; i < 5; i += 1) verdicts.push(verdictOf(await e2e.rig.measure(e2e.rig.url('youtube.com', i % 2 === 0 ? 'http' : 'https'), { network: 'kcell' })).verdict);
    expect(verdicts).toEqual(['accessible', 'accessible', 'accessible', 'accessible', 'accessible']);
  });
});
