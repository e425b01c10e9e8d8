import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, parseCidrList, EgressGuard, Trace, dnsAddresses, dnsLookup, parseDnsResponse, encodeDnsQuery, parseResolvConf, systemResolver, ConfigError } from '@steppe/shared';
import { addressRecord, answer, closedPort, dnsServer, type TestDnsServer } from './helpers/servers.js';

const guard = new EgressGuard(parseCidrList('127.0.0.0/8,::1/128'));
let server: TestDnsServer;

beforeAll(async () => {
  server = await dnsServer((q) => [answer(q, { answers: [addressRecord(q, '93.184.216.34')] })]);
});
afterAll(async () => {
  await server.close();
});

function lookup(trace: Trace, extra: { hostname?: string; queryType?: 'A' | 'AAAA'; transport?: 'udp' | 'tcp'; timeoutMs?: number; duplicateWindowMs?: number } = {}) {
  return dnsLookup({
    hostname: extra.hostname ?? 'example.test',
    queryType: extra.queryType ?? 'A',
    resolver: { host: server.host, port: server.port },
    transport: extra.transport ?? 'udp',
    timeoutMs: extra.timeoutMs ?? 2000,
    duplicateWindowMs: extra.duplicateWindowMs ?? 50,
    guard,
    trace,
  });
}

describe('dnsLookup over UDP and TCP against a real loopback resolver', () => {
  it('records a NOERROR answer with its TTL and timing', async () => {
    server.behaviour = (q) => [answer(q, { answers: [addressRecord(q, '93.184.216.34', 1234)] })];
    const trace = new Trace();
    const q = await lookup(trace);
    expect(q.failure).toBe('');
    expect(q.transport).toBe(wire.DnsTransport.DNS_TRANSPORT_UDP);
    expect(q.resolver).toBe(`127.0.0.1:${server.port}`);
    expect(q.responses).toHaveLength(1);
    expect(q.responses[0]).toMatchObject({ rcode: 0, idMatches: true, truncated: false, answers: [{ answerType: 'A', value: '93.184.216.34', ttl: 1234 }] });
    expect(q.t0Ms).toBeLessThanOrEqual(q.responses[0]?.tMs ?? -1);
    expect(q.responses[0]?.tMs).toBeLessThanOrEqual(q.t1Ms);
    expect(dnsAddresses(q)).toEqual(['93.184.216.34']);
    expect(trace.observations().dnsQueries).toEqual([q]);
    expect(trace.observations().networkEvents).toEqual([]);
    expect(trace.bytesSent).toBeGreaterThan(0);
    expect(trace.bytesReceived).toBeGreaterThan(0);
  });

  it.each([
    [3, 'dns_nxdomain_error'],
    [2, 'dns_servfail_error'],
    [5, 'dns_refused_error'],
  ])('rcode %i is %s', async (rcode, failure) => {
    server.behaviour = (q) => [answer(q, { rcode })];
    const q = await lookup(new Trace());
    expect(q.failure).toBe(failure);
    expect(q.responses[0]?.rcode).toBe(rcode);
  });

  it('NOERROR without an address of the asked type is dns_no_answer', async () => {
    server.behaviour = (q) => [answer(q, { answers: [{ type: 'CNAME', name: 'example.test', ttl: 60, class: 'IN', data: 'alias.test' }] })];
    const q = await lookup(new Trace(), { queryType: 'AAAA' });
    expect(q.failure).toBe('dns_no_answer');
    expect(q.responses[0]?.answers).toEqual([{ answerType: 'CNAME', value: 'alias.test', ttl: 60 }]);
  });

  it('a silent resolver is generic_timeout_error', async () => {
    server.behaviour = () => [];
    const q = await lookup(new Trace(), { timeoutMs: 200 });
    expect(q.failure).toBe('generic_timeout_error');
    expect(q.responses).toEqual([]);
  });

  it('a closed UDP port (ICMP port unreachable) is connection_refused', async () => {
    const port = await closedPort();
    const trace = new Trace();
    const q = await dnsLookup({ hostname: 'example.test', queryType: 'A', resolver: { host: '127.0.0.1', port }, transport: 'udp', timeoutMs: 2000, guard, trace });
    expect(q.failure).toBe('connection_refused');
  });

  it('detects a duplicate (injected) response and keeps the first as the answer', async () => {
    server.behaviour = (q) => [
      answer(q, { answers: [addressRecord(q, '10.10.34.35', 60)] }),
      answer(q, { answers: [addressRecord(q, '93.184.216.34', 300)] }),
    ];
    const trace = new Trace();
    const q = await lookup(trace, { duplicateWindowMs: 300 });
    expect(q.responses.map((r) => r.answers[0]?.value)).toEqual(['10.10.34.35', '93.184.216.34']);
    expect(q.failure).toBe('');
    expect(dnsAddresses(q)).toEqual(['10.10.34.35']);
    expect(dnsAddresses(q, { allResponses: true })).toEqual(['10.10.34.35', '93.184.216.34']);
    const events = trace.observations().networkEvents;
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe('dns_duplicate_response');
    expect(events[0]?.detail).toContain('2 responses (2 distinct)');
  });

  it('a response with the wrong id is recorded but not used; only wrong ids is dns_reply_with_wrong_query_id', async () => {
    server.behaviour = (q) => [answer(q, { id: ((q.id ?? 0) + 1) & 0xffff, answers: [addressRecord(q, '10.0.0.1')] })];
    const q = await lookup(new Trace(), { timeoutMs: 300 });
    expect(q.responses).toHaveLength(1);
    expect(q.responses[0]?.idMatches).toBe(false);
    expect(q.failure).toBe('dns_reply_with_wrong_query_id');
    expect(dnsAddresses(q)).toEqual([]);
  });

  it('a truncated UDP answer is asked again over TCP; both queries are recorded', async () => {
    server.behaviour = (q, transport) =>
      transport === 'udp'
        ? [answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE })]
        : [answer(q, { answers: [addressRecord(q, '93.184.216.34'), addressRecord(q, '93.184.216.35')] })];
    const before = server.tcpQueries;
    const trace = new Trace();
    const q = await lookup(trace);
    expect(server.tcpQueries).toBe(before + 1);
    expect(q.transport).toBe(wire.DnsTransport.DNS_TRANSPORT_TCP);
    expect(dnsAddresses(q)).toEqual(['93.184.216.34', '93.184.216.35']);
    const recorded = trace.observations().dnsQueries;
    expect(recorded.map((r) => r.transport)).toEqual([wire.DnsTransport.DNS_TRANSPORT_UDP, wire.DnsTransport.DNS_TRANSPORT_TCP]);
    expect(recorded[0]?.responses[0]?.truncated).toBe(true);
    expect(recorded[0]?.t1Ms).toBeLessThanOrEqual(recorded[1]?.t0Ms ?? -1);
  });

  it('queries over TCP directly, counting the socket bytes', async () => {
    server.behaviour = (q) => [answer(q, { answers: [addressRecord(q, '2001:db8::1')] })];
    const trace = new Trace();
    const q = await lookup(trace, { transport: 'tcp', queryType: 'AAAA' });
    expect(q.failure).toBe('');
    expect(dnsAddresses(q)).toEqual(['2001:db8::1']);
    expect(trace.bytesSent).toBeGreaterThan(20);
  });

  it('a TCP resolver that closes without answering is eof_error, a silent one a timeout, a closed port connection_refused', async () => {
    server.behaviour = () => 'close';
    const trace = new Trace();
    expect((await lookup(trace, { transport: 'tcp' })).failure).toBe('eof_error');
    server.behaviour = () => [];
    expect((await lookup(trace, { transport: 'tcp', timeoutMs: 200 })).failure).toBe('generic_timeout_error');
    const port = await closedPort();
    const refused = await dnsLookup({ hostname: 'x.test', queryType: 'A', resolver: { host: '127.0.0.1', port }, transport: 'tcp', timeoutMs: 1000, guard, trace });
    expect(refused.failure).toBe('connection_refused');
  });

  it('the resolver address is refused by the egress guard before any datagram is sent', async () => {
    const strict = new EgressGuard(parseCidrList('127.0.0.2/32'));
    const before = server.udpQueries;
    const q = await dnsLookup({ hostname: 'x.test', queryType: 'A', resolver: { host: server.host, port: server.port }, transport: 'udp', timeoutMs: 500, guard: strict, trace: new Trace() });
    expect(q.failure).toBe('blocked_by_policy');
    const t = await dnsLookup({ hostname: 'x.test', queryType: 'A', resolver: { host: server.host, port: server.port }, transport: 'tcp', timeoutMs: 500, guard: strict, trace: new Trace() });
    expect(t.failure).toBe('blocked_by_policy');
    expect(server.udpQueries).toBe(before);
  });
});

describe('DNS message parsing (bytes in, observation out)', () => {
  it('ignores bytes that are not a response', () => {
    expect(parseDnsResponse(new Uint8Array([1, 2, 3]), 1, 0)).toBeUndefined();
    expect(parseDnsResponse(encodeDnsQuery(7, 'a.test', 'A'), 7, 0)).toBeUndefined();
  });
});

describe('system resolver', () => {
  it('takes the first valid nameserver of resolv.conf on port 53', () => {
    expect(parseResolvConf('# c\nsearch lan\nnameserver fe80::1%eth0\nnameserver 9.9.9.9\n')).toEqual({ host: 'fe80::1', port: 53 });
    expect(parseResolvConf('options ndots:1\n')).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'steppe-resolv-'));
    try {
      writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
      expect(systemResolver(join(dir, 'resolv.conf'))).toEqual({ host: '127.0.0.53', port: 53 });
      writeFileSync(join(dir, 'empty.conf'), '');
      expect(() => systemResolver(join(dir, 'empty.conf'))).toThrow(ConfigError);
      expect(() => systemResolver(join(dir, 'missing.conf'))).toThrow(/--resolver/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
