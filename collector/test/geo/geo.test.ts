import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseCidrList } from '@steppe/shared';
import { AsnIndex, NetworkLookup, UNKNOWN_NETWORK, clientAddress, parseNetworksFile } from '../../src/geo/index.js';

const dir = mkdtempSync(join(tmpdir(), 'steppe-geo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--networks file', () => {
  it('parses JSON and CSV, longest prefix first', () => {
    const json = parseNetworksFile(JSON.stringify([
      { cidr: '127.0.0.0/16', asn: 48716, cc: 'KZ', name: 'PS Internet Company' },
      { cidr: '127.0.9.0/24', asn: 9198, cc: 'KZ', name: 'JSC Kazakhtelecom' },
    ]), 'test');
    expect(json.map((e) => e.asn)).toEqual([9198, 48716]);
    const csv = parseNetworksFile('# lab networks\ncidr,asn,cc,name\n127.0.9.0/24,9198,KZ,"JSC Kazakhtelecom, Almaty"\n::1/128,0,ZZ,\n', 'test');
    expect(csv[0]?.networkName).toBe('');
    expect(csv.find((e) => e.asn === 9198)?.networkName).toBe('JSC Kazakhtelecom, Almaty');
    expect(parseNetworksFile('{"networks":[{"cidr":"10.0.0.0/8","asn":1,"cc":"US","name":"x"}]}', 't')).toHaveLength(1);
  });

  it('names the row and field of bad input', () => {
    const bad: Array<[string, RegExp]> = [
      ['[{"cidr":"127.0.9.0/33","asn":1,"cc":"KZ","name":"x"}]', /networks\[0\]: field "cidr"/],
      ['[{"cidr":"127.0.9.0/24","asn":-1,"cc":"KZ","name":"x"}]', /field "asn"/],
      ['[{"cidr":"127.0.9.0/24","asn":1,"cc":"kz","name":"x"}]', /field "cc"/],
      ['[{"cidr":"127.0.9.0/24","asn":1,"cc":"KZ","name":"x","ip":"1.2.3.4"}]', /unknown field "ip"/],
      ['127.0.9.0/24,9198,KZ\n', /line 1: expected 4 fields/],
      ['127.0.9.0/24,AS9198,KZ,x\n', /line 1: field "asn"/],
      ['{ not json', /not valid JSON/],
    ];
    for (const [text, message] of bad) {
      expect(() => parseNetworksFile(text, 'nets.txt')).toThrow(ConfigError);
      expect(() => parseNetworksFile(text, 'nets.txt')).toThrow(message);
    }
  });
});

describe('AsnIndex', () => {
  const v4 = '16777216,16777471,13335,"Cloudflare, Inc."\n42205184,42467327,9198,JSC Kazakhtelecom\n';
  // 2001:db8::/32 and 2a00:1450::/32 as decimal u128
  const v6 = `${BigInt('0x2a001450000000000000000000000000')},${BigInt('0x2a001450ffffffffffffffffffffffff')},15169,Google LLC\n${BigInt('0x20010db8000000000000000000000000')},${BigInt('0x20010db8ffffffffffffffffffffffff')},64496,Doc\n`;

  it('looks up IPv4, IPv6 and IPv4-mapped addresses by binary search', () => {
    const index = AsnIndex.fromCsv(v4, v6);
    expect(index.size).toEqual({ ipv4: 2, ipv6: 2 });
    expect(index.lookup('1.0.0.1')).toEqual({ asn: 13335, name: 'Cloudflare, Inc.' });
    expect(index.lookup('2.132.0.0')).toEqual({ asn: 9198, name: 'JSC Kazakhtelecom' });
    expect(index.lookup('2.135.255.255')).toEqual({ asn: 9198, name: 'JSC Kazakhtelecom' });
    expect(index.lookup('2.136.0.0')).toBeUndefined();
    expect(index.lookup('1.0.1.0')).toBeUndefined();
    expect(index.lookup('0.0.0.1')).toBeUndefined();
    expect(index.lookup('::ffff:2.132.1.1')?.asn).toBe(9198);
    expect(index.lookup('2a00:1450:4001::1')?.asn).toBe(15169);
    expect(index.lookup('2001:db8:ffff::1')?.asn).toBe(64496);
    expect(index.lookup('2001:db9::1')).toBeUndefined();
    expect(index.lookup('not an ip')).toBeUndefined();
  });

  it('caches the built index and reloads it when the sources are unchanged', () => {
    const ipv4Csv = join(dir, 'v4.csv');
    const ipv6Csv = join(dir, 'v6.csv');
    writeFileSync(ipv4Csv, v4);
    writeFileSync(ipv6Csv, v6);
    const cache = join(dir, 'cache');
    expect(AsnIndex.load({ ipv4Csv, ipv6Csv }, cache).lookup('2.132.0.1')?.asn).toBe(9198);
    const files = readdirSync(cache);
    expect(files).toHaveLength(1);
    const again = AsnIndex.load({ ipv4Csv, ipv6Csv }, cache);
    expect(again.lookup('1.0.0.200')?.name).toBe('Cloudflare, Inc.');
    expect(again.lookup('2a00:1450::5')?.asn).toBe(15169);
    // A corrupt cache is rebuilt, not trusted.
    writeFileSync(join(cache, files[0] ?? ''), 'garbage');
    expect(AsnIndex.load({ ipv4Csv, ipv6Csv }, cache).lookup('2.132.0.1')?.asn).toBe(9198);
  });

  it('rejects a malformed source with the line number', () => {
    expect(() => AsnIndex.fromCsv('1,2,3,x\n5,4,1,y\n', '')).toThrow(/line 2: bad IPv4 range/);
  });
});

describe('NetworkLookup', () => {
  it('uses the networks map first, then the databases; loopback and private are AS0/ZZ', () => {
    const networksFile = join(dir, 'nets.csv');
    writeFileSync(networksFile, '127.0.9.0/24,9198,KZ,JSC Kazakhtelecom\n');
    const cacheDir = join(dir, 'geo-cache');
    const lookup = new NetworkLookup({ networksFile, cacheDir });
    expect(lookup.lookup('127.0.9.7')).toEqual({ asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' });
    expect(lookup.lookup('::ffff:127.0.9.7').asn).toBe(9198);
    expect(lookup.lookup('127.0.0.1')).toEqual(UNKNOWN_NETWORK);
    expect(lookup.lookup('10.1.2.3')).toEqual(UNKNOWN_NETWORK);
    expect(lookup.lookup('garbage')).toEqual(UNKNOWN_NETWORK);
    // Real data from @ip-location-db: Kazakhtelecom's 95.56.0.0/14.
    const kz = lookup.lookup('95.56.1.1');
    expect(kz.cc).toBe('KZ');
    expect(kz.asn).toBe(9198);
    expect(existsSync(cacheDir)).toBe(true);
    expect(new NetworkLookup({ useDatabases: false }).lookup('95.56.1.1')).toEqual(UNKNOWN_NETWORK);
  });
});

describe('clientAddress', () => {
  const req = (remote: string, xff?: string): IncomingMessage => ({ socket: { remoteAddress: remote }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;
  const proxies = parseCidrList('127.0.0.10/32,::1/128');

  it('ignores X-Forwarded-For from anyone but a configured proxy', () => {
    expect(clientAddress(req('127.0.0.5', '95.56.1.1'), proxies)).toBe('127.0.0.5');
    expect(clientAddress(req('::ffff:127.0.0.5', '95.56.1.1'), [])).toBe('127.0.0.5');
  });

  it('takes the first untrusted hop from the right behind a trusted proxy', () => {
    expect(clientAddress(req('127.0.0.10', '95.56.1.1'), proxies)).toBe('95.56.1.1');
    expect(clientAddress(req('127.0.0.10', '6.6.6.6, 95.56.1.1, ::1'), proxies)).toBe('95.56.1.1');
    expect(clientAddress(req('127.0.0.10', '95.56.1.1:5555'), proxies)).toBe('95.56.1.1');
    expect(clientAddress(req('127.0.0.10', 'unknown'), proxies)).toBeUndefined();
    expect(clientAddress(req('127.0.0.10'), proxies)).toBe('127.0.0.10');
  });
});
