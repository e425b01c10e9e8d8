import { describe, expect, it } from 'vitest';
import { STATE_ROOT_CN } from '../lab/src/index.js';
import { useProbeLab, verdictOf } from './helpers/probe-lab.js';

// Connection-level censorship in the loopback tier (TCP after connect, SNI
// filtering, TLS interception), measured by the real probe engine against the
// real control. (A SYN answered by RST or dropped needs the namespace tier:
// netns-e2e.test.ts.)

const e2e = useProbeLab();
const { censor } = e2e;

// Scenarios that end in a timeout run with a short budget (the step slices scale with it).
const TIMEOUT_BUDGET_MS = 5000;

describe('e2e: TCP and TLS censorship', () => {
  it('an address reset after connect (both SNIs fail) is tls/tls_failure', async () => {
    censor('www.instagram.com', { kind: 'tcp-reset' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.instagram.com')))).toEqual({
      verdict: 'tls', blockingType: 'tls_failure', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake',
    });
  });

  it('an address blackholed after connect is tls/tls_failure with a timeout', async () => {
    censor('www.instagram.com', { kind: 'tcp-blackhole' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.instagram.com'), { timeoutMs: TIMEOUT_BUDGET_MS }))).toEqual({
      verdict: 'tls', blockingType: 'tls_failure', anomaly: true, confirmed: false, failure: 'generic_timeout_error', failedStep: 'tls_handshake',
    });
  });

  it('an SNI-triggered reset (benign SNI to the same address passes) is tls/sni_reset', async () => {
    censor('www.facebook.com', { kind: 'sni-reset' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.facebook.com')))).toEqual({
      verdict: 'tls', blockingType: 'sni_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake',
    });
    expect(e2e.rig.lab.log.count({ kind: 'client-hello', sni: 'www.facebook.com', action: 'sni-reset' })).toBeGreaterThan(0);
  });

  it('an SNI-triggered stall is tls/sni_timeout', async () => {
    censor('www.youtube.com', { kind: 'sni-timeout' });
    expect(verdictOf(await e2e.rig.measure(e2e.rig.url('www.youtube.com'), { timeoutMs: TIMEOUT_BUDGET_MS }))).toEqual({
      verdict: 'tls', blockingType: 'sni_timeout', anomaly: true, confirmed: false, failure: 'generic_timeout_error', failedStep: 'tls_handshake',
    });
  });

  it('interception by the state root (a known interception root) is interception/tls_mitm, confirmed', async () => {
    censor('www.instagram.com', { kind: 'tls-intercept' });
    const m = await e2e.rig.measure(e2e.rig.url('www.instagram.com'));
    expect(verdictOf(m)).toEqual({
      verdict: 'interception', blockingType: 'tls_mitm', anomaly: true, confirmed: true, failure: 'ssl_unknown_authority', failedStep: 'tls_handshake',
    });
    expect((m['analysis'] as { interception_issuer_cn: string }).interception_issuer_cn).toBe(STATE_ROOT_CN);
  });

  it('interception by a root the probe does not know is still interception, but not confirmed', async () => {
    censor('www.facebook.com', { kind: 'tls-intercept' });
    const m = await e2e.rig.measure(e2e.rig.url('www.facebook.com'), { knownStateRoot: false });
    expect(verdictOf(m)).toEqual({
      verdict: 'interception', blockingType: 'tls_mitm', anomaly: true, confirmed: false, failure: 'ssl_unknown_authority', failedStep: 'tls_handshake',
    });
    // The issuer of the leaf it received.
    expect((m['analysis'] as { interception_issuer_cn: string }).interception_issuer_cn).toBe(STATE_ROOT_CN);
  });

  it('the egress guard keeps the probe off an address outside --allow-net: no connection reaches the site', async () => {
    const source = e2e.rig.source();
    // Only the resolver's /16 is allowed: the site at 127.10.0.7 is not.
    const m = await e2e.rig.measure(e2e.rig.url('vlast.kz'), { source, allowNet: '127.53.0.0/16' });
    expect(verdictOf(m)).toMatchObject({ verdict: '', anomaly: false, failure: 'blocked_by_policy' });
    expect(e2e.rig.lab.log.count({ source, kind: 'dns-query', domain: 'vlast.kz' })).toBeGreaterThan(0);
    expect(e2e.rig.lab.log.count({ source, domain: 'vlast.kz', kind: 'connection' })).toBe(0);
    expect(e2e.rig.lab.log.count({ source, kind: 'http-request' })).toBe(0);
  });
});
