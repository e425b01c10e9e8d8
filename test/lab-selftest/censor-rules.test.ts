import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@steppe/shared';
import { BEHAVIOUR_KINDS, BEHAVIOUR_STAGES, Censor, LAB_NETWORKS, NetworkTable, checkBehaviour } from '../lab/src/index.js';

const networks = new NetworkTable(LAB_NETWORKS);
const kz = networks.get('kazakhtelecom');
const beeline = networks.get('beeline');
const control = networks.get('control');

describe('NetworkTable', () => {
  it('maps a source address to its network by /24', () => {
    expect(networks.lookup('127.0.2.1')?.id).toBe('kazakhtelecom');
    expect(networks.lookup('127.0.2.200')?.id).toBe('kazakhtelecom');
    expect(networks.lookup('127.0.4.7')?.name).toBe('AS21299 Kar-Tel/Beeline');
    expect(networks.lookup('127.0.5.1')?.asn).toBe(206026);
    expect(networks.lookup('127.0.3.1')?.role).toBe('control');
    expect(networks.lookup('127.0.0.1')).toBeUndefined();
    expect(kz.source).toBe('127.0.2.1');
  });

  it('rejects bad network tables', () => {
    const base = { id: 'x', name: 'X', asn: 1, cidr: '127.0.9.0/24', role: 'in-country' } as const;
    expect(() => new NetworkTable([base, { ...base, cidr: '127.0.10.0/24' }])).toThrow(/duplicate network id/);
    expect(() => new NetworkTable([base, { ...base, id: 'y', cidr: '127.0.9.128/25' }])).toThrow(/overlaps/);
    expect(() => new NetworkTable([{ ...base, cidr: '10.0.0.0/24' }])).toThrow(/inside 127.0.0.0\/8 or 198.18.0.0\/15/);
    expect(() => new NetworkTable([{ ...base, id: 'everyone' }])).toThrow(/reserved/);
    expect(() => new NetworkTable([{ ...base, id: 'Bad Id' }])).toThrow(InvalidArgumentError);
  });
});

describe('Censor rule book', () => {
  it('matches by stage, domain and network; the newest matching rule wins; lifting uncovers the older', () => {
    const censor = new Censor(networks);
    const older = censor.apply({ domains: 'www.facebook.com', networks: 'in-country', behaviour: { kind: 'sni-reset' } });
    const newer = censor.apply({ domains: ['www.facebook.com', 'facebook.com'], networks: ['kazakhtelecom'], behaviour: { kind: 'tls-intercept' } });
    expect(censor.match('tls', 'www.facebook.com', kz)?.id).toBe(newer);
    expect(censor.match('tls', 'WWW.Facebook.com.', kz)?.id).toBe(newer);
    expect(censor.match('tls', 'www.facebook.com', beeline)?.id).toBe(older);
    expect(censor.match('tls', 'www.facebook.com', control)).toBeUndefined();
    expect(censor.match('tls', 'www.facebook.com', undefined)).toBeUndefined();
    expect(censor.match('dns', 'www.facebook.com', kz)).toBeUndefined();
    expect(censor.match('tls', 'instagram.com', kz)).toBeUndefined();
    expect(censor.lift(newer)).toBe(true);
    expect(censor.lift(newer)).toBe(false);
    expect(censor.match('tls', 'www.facebook.com', kz)?.id).toBe(older);
  });

  it('"everyone" includes the control and unknown sources; a shutdown wins at every stage', () => {
    const censor = new Censor(networks);
    censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'down' } });
    expect(censor.match('tcp', 'vlast.kz', control)?.behaviour.kind).toBe('down');
    expect(censor.match('tcp', 'vlast.kz', undefined)?.behaviour.kind).toBe('down');
    const shutdown = censor.shutdown('beeline');
    for (const stage of ['dns', 'tcp', 'tls', 'http'] as const) {
      expect(censor.match(stage, 'anything.example', beeline)?.id).toBe(shutdown);
      expect(censor.match(stage, undefined, beeline)?.id).toBe(shutdown);
      expect(censor.match(stage, 'anything.example', kz)).toBeUndefined();
    }
  });

  it('liftWhere removes by domain, network or kind; clear removes all', () => {
    const censor = new Censor(networks);
    censor.apply({ domains: 'facebook.com', networks: ['kazakhtelecom'], behaviour: { kind: 'dns-nxdomain' } });
    censor.apply({ domains: 'facebook.com', networks: ['beeline'], behaviour: { kind: 'sni-reset' } });
    censor.apply({ domains: 'youtube.com', networks: ['beeline'], behaviour: { kind: 'sni-reset' } });
    censor.shutdown('kcell');
    expect(censor.liftWhere({ domain: 'facebook.com', network: 'beeline' })).toBe(1);
    expect(censor.liftWhere({ kind: 'shutdown' })).toBe(1);
    expect(censor.rules().map((r) => `${String(r.domains)}:${r.behaviour.kind}`)).toEqual(['facebook.com:dns-nxdomain', 'youtube.com:sni-reset']);
    censor.clear();
    expect(censor.rules()).toEqual([]);
  });

  it('counts flaky failures per rule, domain and source', () => {
    const censor = new Censor(networks);
    censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'flaky', failures: 2 } });
    const rule = censor.match('tcp', 'vlast.kz', kz);
    if (rule === undefined) throw new Error('no rule');
    expect([1, 2, 3].map(() => censor.flakyShouldFail(rule, 'vlast.kz', '127.0.2.1'))).toEqual([true, true, false]);
    expect(censor.flakyShouldFail(rule, 'vlast.kz', '127.0.3.1')).toBe(true);
  });

  it('refuses unknown networks, bad domains and bad behaviours, naming the field', () => {
    const censor = new Censor(networks);
    const sni = { kind: 'sni-reset' } as const;
    expect(() => censor.apply({ domains: 'facebook.com', networks: ['mts'], behaviour: sni })).toThrow(/unknown network "mts" \(known: kazakhtelecom, beeline, kcell, control\)/);
    expect(() => censor.apply({ domains: 'facebook.com', networks: [], behaviour: sni })).toThrow(/rule.networks/);
    expect(() => censor.apply({ domains: 'not a domain', networks: 'everyone', behaviour: sni })).toThrow(/rule.domains\[0\]/);
    expect(() => censor.apply({ domains: [], networks: 'everyone', behaviour: sni })).toThrow(/rule.domains/);
    expect(() => checkBehaviour({ kind: 'dns-wrong-answer', address: '8.8.8.8' })).toThrow(/only ranges the lab may use/);
    expect(() => checkBehaviour({ kind: 'throttle', bitsPerSecond: 10 })).toThrow(/behaviour.bitsPerSecond/);
    expect(() => checkBehaviour({ kind: 'sni-reset', mode: 'x' })).toThrow(/behaviour.mode: not an option of "sni-reset"/);
    expect(() => checkBehaviour({ kind: 'dns-poison' })).toThrow(/behaviour.kind: expected one of/);
    expect(() => checkBehaviour('sni-reset')).toThrow(/expected an object/);
    expect(censor.rules()).toEqual([]);
  });

  it('every behaviour kind has a stage and validates in its minimal form', () => {
    for (const kind of BEHAVIOUR_KINDS) {
      expect(BEHAVIOUR_STAGES[kind]).toMatch(/^(network|dns|tcp|tls|http)$/);
      expect(checkBehaviour({ kind })).toEqual({ kind });
    }
  });
});
