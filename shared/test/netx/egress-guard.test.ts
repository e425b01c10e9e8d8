import { describe, expect, it } from 'vitest';
import { EgressDeniedError, EgressGuard, classifyError, deadline, inAnyCidr, isBogon, parseCidrList, publicUnicastNetworks } from '@steppe/shared';

describe('EgressGuard', () => {
  const guard = new EgressGuard(parseCidrList('127.0.0.0/8,::1/128'));

  it('allows only IP literals inside the list', () => {
    expect(guard.allows('127.1.2.3')).toBe(true);
    expect(guard.allows('::1')).toBe(true);
    expect(guard.allows('[::1]')).toBe(true);
    expect(guard.allows('::ffff:127.0.0.1')).toBe(true);
    expect(guard.allows('10.0.0.1')).toBe(false);
    expect(guard.allows('localhost')).toBe(false);
    expect(guard.allows('')).toBe(false);
    expect(new EgressGuard([]).allows('127.0.0.1')).toBe(false);
  });

  it('throws EgressDeniedError, classified blocked_by_policy', () => {
    expect(() => guard.assertAllowed('8.8.8.8')).toThrow(EgressDeniedError);
    try {
      guard.assertAllowed('8.8.8.8');
    } catch (err) {
      expect(classifyError(err)).toBe('blocked_by_policy');
    }
  });

  it('the default public-unicast list allows public addresses and no bogon', () => {
    const nets = publicUnicastNetworks();
    const pub = new EgressGuard(nets);
    for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2a00:1450:4001::1', '2606:4700::1111']) expect(pub.allows(ip)).toBe(true);
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.5.4', '198.18.0.1', '100.64.0.1', '169.254.1.1', '224.0.0.1', '255.255.255.255', '0.0.0.0', '::1', 'fe80::1', 'fc00::1', '2001:db8::1', 'ff02::1']) {
      expect(pub.allows(ip)).toBe(false);
    }
    // No listed network overlaps a bogon: check each network's first and last address.
    for (const n of nets) expect(isBogon(n.text.split('/')[0] ?? '')).toBe(false);
    expect(inAnyCidr(nets, '203.0.113.9')).toBe(false);
  });
});

describe('deadline', () => {
  it('passes a parent timeout through and turns another abort into an interruption', () => {
    const parent = new AbortController();
    const d = deadline(10_000, parent.signal);
    parent.abort(new Error('stop'));
    expect(classifyError(d.signal.reason)).toBe('interrupted');
    d.dispose();
    const timedOut = new AbortController();
    const timeout = Object.assign(new Error('budget'), { name: 'TimeoutError' });
    timedOut.abort(timeout);
    const e = deadline(10_000, timedOut.signal);
    expect(classifyError(e.signal.reason)).toBe('generic_timeout_error');
    e.dispose();
  });
});
