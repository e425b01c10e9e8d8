import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, findInterceptionRoot, loadInterceptionRoots, type InterceptionRoot } from '@steppe/shared';
import { makeInterceptionPki, type InterceptionPki } from './helpers/pki.js';

let pki: InterceptionPki;
let roots: InterceptionRoot[];

beforeAll(() => {
  pki = makeInterceptionPki();
  roots = loadInterceptionRoots([pki.stateRoot.pem]);
});
afterAll(() => pki.cleanup());

describe('loadInterceptionRoots', () => {
  it('reads every certificate of each PEM text, once', () => {
    const loaded = loadInterceptionRoots([pki.stateRoot.pem + pki.honestRoot.pem, pki.stateRoot.pem]);
    expect(loaded.map((r) => r.subjectCn)).toEqual(['Lab State Root', 'Lab Honest Root']);
    expect(loaded[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded[0]?.spkiSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a text without a certificate, or a broken one, naming its index', () => {
    expect(() => loadInterceptionRoots([pki.stateRoot.pem, 'not a pem'])).toThrow(/#1: no PEM certificate/);
    expect(() => loadInterceptionRoots(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])).toThrow(InvalidArgumentError);
  });
});

describe('findInterceptionRoot', () => {
  it('matches a leaf sent alone by issuer name and signature', () => {
    const match = findInterceptionRoot([pki.leafViaRoot.der], roots);
    expect(match).toMatchObject({ kind: 'signature', chainIndex: 0, issuerCn: 'Lab State Root' });
  });

  it('matches an intermediate issued by the root when the root is not sent', () => {
    const match = findInterceptionRoot([pki.leafViaIntermediate.der, pki.intermediate.der], roots);
    expect(match).toMatchObject({ kind: 'signature', chainIndex: 1, issuerCn: 'Lab State Root' });
  });

  it('matches the root itself by fingerprint when it is sent', () => {
    const match = findInterceptionRoot([pki.leafViaIntermediate.der, pki.intermediate.der, pki.stateRoot.der], roots);
    expect(match).toMatchObject({ kind: 'fingerprint', chainIndex: 2 });
  });

  it('matches a re-issued root carrying the same public key', () => {
    const reissued = loadInterceptionRoots([pki.stateRoot.pem]).map((r) => ({ ...r, sha256: 'another-certificate' }));
    expect(findInterceptionRoot([pki.stateRoot.der], reissued)).toMatchObject({ kind: 'public_key' });
  });

  it('does not match a forged issuer with the same name and another key', () => {
    // The names chain (what a name-only check would accept)...
    expect(new X509Certificate(pki.leafViaForged.pem).checkIssued(new X509Certificate(pki.stateRoot.pem))).toBe(true);
    // ...but the signature does not verify.
    expect(findInterceptionRoot([pki.leafViaForged.der, pki.forgedRoot.der], roots)).toBeUndefined();
  });

  it('does not match an honest chain, garbage bytes, or an empty chain', () => {
    expect(findInterceptionRoot([pki.honestLeaf.der, pki.honestRoot.der], roots)).toBeUndefined();
    expect(findInterceptionRoot([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])], roots)).toBeUndefined();
    expect(findInterceptionRoot([], roots)).toBeUndefined();
    expect(findInterceptionRoot([pki.leafViaRoot.der], [])).toBeUndefined();
  });
});
