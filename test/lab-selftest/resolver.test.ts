import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { CONTROL_SOURCE, queryDns, tcpConnect } from '../lab/src/index.js';
import { planDnsReply } from '../lab/src/dns-answer.js';
import { useLab } from './use-lab.js';

const KZ = '127.0.2.1'; // AS9198 Kazakhtelecom
const BEELINE = '127.0.4.1';

const fixture = useLab();

function ask(name: string, localAddress: string, extra: Partial<Parameters<typeof queryDns>[0]> = {}) {
  // A short listening window after the first answer, except where a test looks for duplicates.
  return queryDns({ server: fixture.lab.resolver.host, port: fixture.lab.resolver.port, name, localAddress, listenMs: 30, ...extra });
}

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const REFUSED = 5;

describe('lab resolver: honest answers', () => {
  it('answers every lab host with its own address, over UDP and TCP, to any source', async () => {
    const addresses = new Set<string>();
    for (const site of fixture.lab.sites) {
      for (const transport of ['udp', 'tcp'] as const) {
        for (const source of [KZ, CONTROL_SOURCE]) {
          const responses = await ask(site.domain, source, { transport, listenMs: 20 });
          expect(responses, `${site.domain} via ${transport} from ${source}`).toHaveLength(1);
          expect(responses[0]).toMatchObject({ rcode: NOERROR, addresses: [site.address] });
        }
      }
      addresses.add(site.address);
    }
    expect(addresses.size).toBe(fixture.lab.sites.length);
    expect([...addresses].every((a) => a.startsWith('127.'))).toBe(true);
  });

  it('says NXDOMAIN for a name outside the lab and NOERROR without data for AAAA', async () => {
    expect((await ask('example.org', CONTROL_SOURCE))[0]).toMatchObject({ rcode: NXDOMAIN, addresses: [] });
    expect((await ask('www.facebook.com', CONTROL_SOURCE, { type: 'AAAA' }))[0]).toMatchObject({ rcode: NOERROR, addresses: [] });
  });

  it('answers case-insensitively and records each query with its source network', async () => {
    expect((await ask('WWW.FaceBook.com', KZ))[0]?.addresses).toEqual([fixture.lab.address('www.facebook.com')]);
    expect(fixture.lab.log.events({ kind: 'dns-query' })).toEqual([
      expect.objectContaining({ source: KZ, network: 'kazakhtelecom', name: 'www.facebook.com', type: 'A', transport: 'udp', action: 'answer' }),
    ]);
  });
});

describe('lab resolver: censorship by source network', () => {
  it('NXDOMAIN, SERVFAIL and REFUSED go to the in-country source only', async () => {
    const cases = [['dns-nxdomain', NXDOMAIN], ['dns-servfail', SERVFAIL], ['dns-refused', REFUSED]] as const;
    for (const [kind, rcode] of cases) {
      const id = fixture.lab.censor.apply({ domains: 'www.facebook.com', networks: ['kazakhtelecom'], behaviour: { kind } });
      for (const transport of ['udp', 'tcp'] as const) {
        expect((await ask('www.facebook.com', KZ, { transport }))[0], `${kind} ${transport}`).toMatchObject({ rcode, addresses: [] });
        expect((await ask('www.facebook.com', CONTROL_SOURCE, { transport }))[0], `${kind} ${transport} control`).toMatchObject({
          rcode: NOERROR, addresses: [fixture.lab.address('www.facebook.com')],
        });
      }
      fixture.lab.censor.lift(id);
    }
  });

  it('a wrong answer points at the blockpage server (or a chosen address) for A queries', async () => {
    fixture.lab.censor.apply({ domains: ['facebook.com', 'www.facebook.com'], networks: 'in-country', behaviour: { kind: 'dns-wrong-answer' } });
    expect((await ask('facebook.com', KZ))[0]?.addresses).toEqual([fixture.lab.blockpageAddress]);
    expect((await ask('www.facebook.com', BEELINE))[0]?.addresses).toEqual([fixture.lab.blockpageAddress]);
    expect((await ask('facebook.com', CONTROL_SOURCE))[0]?.addresses).toEqual([fixture.lab.address('facebook.com')]);
    fixture.lab.censor.apply({ domains: 'youtube.com', networks: ['kcell'], behaviour: { kind: 'dns-wrong-answer', address: fixture.lab.bogonAddress } });
    expect((await ask('youtube.com', '127.0.5.9'))[0]?.addresses).toEqual([fixture.lab.bogonAddress]);
    expect((await ask('youtube.com', KZ))[0]?.addresses).toEqual([fixture.lab.address('youtube.com')]);
  });

  it('silence: the in-country query times out, the control is answered', async () => {
    fixture.lab.censor.apply({ domains: 'www.youtube.com', networks: ['kazakhtelecom'], behaviour: { kind: 'dns-timeout' } });
    expect(await ask('www.youtube.com', KZ, { timeoutMs: 300 })).toEqual([]);
    expect(await ask('www.youtube.com', KZ, { timeoutMs: 300, transport: 'tcp' })).toEqual([]);
    expect(await ask('www.youtube.com', CONTROL_SOURCE)).toHaveLength(1);
    expect(fixture.lab.log.count({ kind: 'dns-query', action: 'timeout', source: KZ })).toBe(2);
  });

  it('injection: a fast forged answer, then the real one, to the same query', async () => {
    fixture.lab.censor.apply({ domains: 'www.instagram.com', networks: ['kazakhtelecom'], behaviour: { kind: 'dns-inject', address: fixture.lab.bogonAddress, delayMs: 30 } });
    const responses = await ask('www.instagram.com', KZ, { listenMs: 300 });
    expect(responses.map((r) => r.addresses)).toEqual([[fixture.lab.bogonAddress], [fixture.lab.address('www.instagram.com')]]);
    expect(responses[0]?.id).toBe(responses[1]?.id);
    expect(await ask('www.instagram.com', CONTROL_SOURCE, { listenMs: 200 })).toHaveLength(1);
    // Over TCP one answer per query: the injector's.
    expect((await ask('www.instagram.com', KZ, { transport: 'tcp' })).map((r) => r.addresses)).toEqual([[fixture.lab.bogonAddress]]);
  });

  it('a total shutdown silences every name for that network only; reset mode resets TCP', async () => {
    const id = fixture.lab.censor.shutdown('beeline');
    expect(await ask('vlast.kz', BEELINE, { timeoutMs: 300 })).toEqual([]);
    expect(await ask('example.org', BEELINE, { timeoutMs: 300 })).toEqual([]);
    expect(await ask('vlast.kz', KZ)).toHaveLength(1);
    fixture.lab.censor.lift(id);
    fixture.lab.censor.shutdown('beeline', 'reset');
    const tcp = await tcpConnect({ host: fixture.lab.resolver.host, port: fixture.lab.resolver.port, localAddress: BEELINE, send: Buffer.from([0, 1, 0]) });
    expect(tcp).toMatchObject({ connected: true, after: 'reset' });
  });

  it('lifting a rule restores honest answers', async () => {
    const id = fixture.lab.censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'dns-nxdomain' } });
    expect((await ask('vlast.kz', CONTROL_SOURCE))[0]?.rcode).toBe(NXDOMAIN);
    expect(fixture.lab.censor.lift(id)).toBe(true);
    expect((await ask('vlast.kz', CONTROL_SOURCE))[0]?.rcode).toBe(NOERROR);
  });
});

describe('planDnsReply (pure)', () => {
  const zone = new Map([['facebook.com', '127.10.0.1']]);
  const query = (name: string, flags = dnsPacket.RECURSION_DESIRED) => dnsPacket.encode({ type: 'query', id: 4242, flags, questions: [{ type: 'A', name }] });

  it('echoes the id, the question and RD, and sets RA', () => {
    const plan = planDnsReply(query('facebook.com'), { zone, rule: undefined, blockpageAddress: '127.10.0.8', transport: 'udp' });
    const reply = dnsPacket.decode(plan.replies[0]?.bytes ?? Buffer.alloc(0));
    expect(reply).toMatchObject({ id: 4242, type: 'response', flag_rd: true, flag_ra: true, questions: [{ name: 'facebook.com', type: 'A' }] });
    expect(reply.answers).toEqual([expect.objectContaining({ type: 'A', data: '127.10.0.1', ttl: 300 })]);
  });

  it('answers garbage with FORMERR when it has a header, and never answers a response', () => {
    const garbage = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00]), Buffer.alloc(8), Buffer.from([0xff, 0xff])]);
    const plan = planDnsReply(garbage, { zone, rule: undefined, blockpageAddress: '127.10.0.8', transport: 'udp' });
    expect(plan.action).toBe('formerr');
    const bytes = plan.replies[0]?.bytes ?? Buffer.alloc(0);
    expect(bytes.readUInt16BE(0)).toBe(0x1234);
    expect(bytes.readUInt16BE(2) & 0x800f).toBe(0x8001);
    expect(planDnsReply(Buffer.from([1, 2, 3]), { zone, rule: undefined, blockpageAddress: '127.10.0.8', transport: 'udp' }).replies).toEqual([]);
    const response = Buffer.from(garbage);
    response[2] = 0x81;
    expect(planDnsReply(response, { zone, rule: undefined, blockpageAddress: '127.10.0.8', transport: 'udp' }).replies).toEqual([]);
  });
});
