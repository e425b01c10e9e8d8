import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, inAnyCidr, ipToBytes, isBogon, isLoopback, parseCidr, parseCidrList } from '../src/index.js';

describe('CIDR parsing and matching', () => {
  it('normalises networks and matches addresses', () => {
    const net = parseCidr('127.1.2.3/8');
    expect(net.text).toBe('127.0.0.0/8');
    expect(cidrContains(net, '127.255.0.1')).toBe(true);
    expect(cidrContains(net, '128.0.0.1')).toBe(false);
    expect(cidrContains(parseCidr('198.18.0.0/15'), '198.19.255.255')).toBe(true);
    expect(cidrContains(parseCidr('198.18.0.0/15'), '198.20.0.0')).toBe(false);
  });

  it('handles IPv6, compression and v4-mapped addresses', () => {
    expect(parseCidr('::1').text).toBe('::1/128');
    expect(cidrContains(parseCidr('2001:db8::/32'), '2001:db8:ffff::1')).toBe(true);
    expect(cidrContains(parseCidr('127.0.0.0/8'), '::ffff:127.0.0.1')).toBe(true);
    expect(formatIp(ipToBytes('2001:db8:0:0:1:0:0:1') ?? new Uint8Array())).toBe('2001:db8::1:0:0:1');
    expect(formatIp(ipToBytes('::') ?? new Uint8Array())).toBe('::');
  });

  it('rejects malformed input with the expected form named', () => {
    expect(() => parseCidr('127.0.0.0/33')).toThrow(/prefix must be 0-32/);
    expect(() => parseCidr('localhost/8')).toThrow(/expected e\.g\./);
    expect(() => parseCidrList(' , ')).toThrow(/empty CIDR list/);
    expect(inAnyCidr(parseCidrList('127.0.0.0/8,::1/128'), 'not an ip')).toBe(false);
  });
});

describe('bogons', () => {
  it('flags reserved ranges and honours the lab switch', () => {
    for (const ip of ['10.10.34.35', '192.168.1.1', '127.0.0.1', '198.18.0.1', '169.254.1.1', '::1', 'fe80::1', 'fd00::1', '0.0.0.0']) {
      expect(isBogon(ip), ip).toBe(true);
    }
    for (const ip of ['31.13.72.36', '2a03:2880:f10c:83:face:b00c:0:25de']) expect(isBogon(ip), ip).toBe(false);
    const lab = { allow: parseCidrList('127.0.0.0/8') };
    expect(isBogon('127.1.0.10', lab)).toBe(false);
    expect(isBogon('198.18.0.1', lab)).toBe(true);
    expect(isLoopback('127.9.9.9')).toBe(true);
  });
});
