import { describe, expect, it } from 'vitest';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { Backoff, ingestUrl, parseCollectorList, parsePins, proxyAgentFor } from '../../src/uplink/index.js';

describe('collector URLs', () => {
  it('maps the base URL to the ingest WebSocket', () => {
    expect(ingestUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/v1/ingest');
    expect(ingestUrl('https://collector.example/steppe/')).toBe('wss://collector.example/steppe/api/v1/ingest');
    expect(ingestUrl('http://[::1]:9')).toBe('ws://[::1]:9/api/v1/ingest');
    expect(() => ingestUrl('ftp://x')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => ingestUrl('http://u:p@x')).toThrow(/credentials/);
    expect(() => ingestUrl('nope')).toThrow(/not a URL/);
    expect(parseCollectorList('http://127.0.0.1:1, http://127.0.0.2:2')).toEqual(['http://127.0.0.1:1', 'http://127.0.0.2:2']);
    expect(() => parseCollectorList(' , ')).toThrow(/no collector URL/);
  });
});

describe('Backoff (full jitter)', () => {
  it('draws uniformly below an exponentially growing ceiling, capped', () => {
    const b = new Backoff({ baseMs: 1000, capMs: 300_000, random: () => 0.5 });
    const waits = Array.from({ length: 12 }, () => b.next());
    expect(waits.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(Math.max(...waits)).toBe(150_000);
    b.reset();
    expect(b.next()).toBe(500);
    const zero = new Backoff({ random: () => 0 });
    expect(zero.next()).toBe(0);
  });
});

describe('proxies', () => {
  it('prefers --proxy, then HTTPS_PROXY for wss (HTTP_PROXY for ws), honouring NO_PROXY', () => {
    expect(proxyAgentFor('wss://c.example/api/v1/ingest', undefined, {})).toBeUndefined();
    expect(proxyAgentFor('wss://c.example/x', undefined, { HTTPS_PROXY: 'http://127.0.0.1:3128' })).toBeInstanceOf(HttpsProxyAgent);
    expect(proxyAgentFor('ws://c.example/x', undefined, { HTTPS_PROXY: 'http://127.0.0.1:3128' })).toBeUndefined();
    expect(proxyAgentFor('ws://c.example/x', undefined, { HTTP_PROXY: 'http://127.0.0.1:3128' })).toBeInstanceOf(HttpsProxyAgent);
    expect(proxyAgentFor('wss://c.example/x', undefined, { HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: '.example' })).toBeUndefined();
    const socks = proxyAgentFor('wss://c.example/x', 'socks5://127.0.0.1:9050', { HTTPS_PROXY: 'http://127.0.0.1:3128' });
    expect(socks).toBeInstanceOf(SocksProxyAgent);
    // socks5 → socks5h: the proxy resolves the collector's name.
    expect((socks as SocksProxyAgent).shouldLookup).toBe(false);
    expect(() => proxyAgentFor('wss://c.example/x', 'ftp://p', {})).toThrow(/unsupported scheme/);
  });
});

describe('certificate pins', () => {
  it('accepts hex (with or without colons) and base64, rejects the rest', () => {
    const hex = 'ab'.repeat(32);
    expect(parsePins([hex, hex.replace(/(..)(?!$)/g, '$1:'), Buffer.alloc(32, 0xab).toString('base64')]).every((p) => p.equals(Buffer.alloc(32, 0xab)))).toBe(true);
    expect(() => parsePins(['abcd'])).toThrow(/not a SHA-256 digest/);
  });
});
