import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  LAB_ROOT_CN, STATE_ROOT_CN, forgeCertificate, issueSiteCertificate, labRootCa, labStateRoot, subjectArgument,
  subjectAltNameArgument, subjectAttributes,
} from '../lab/src/certificates.js';

describe('lab certificates (openssl, made at test time)', () => {
  it('makes two distinct self-signed roots named like a CA and a state "security certificate"', async () => {
    const root = new X509Certificate((await labRootCa()).certPem);
    const state = new X509Certificate((await labStateRoot()).certPem);
    expect(root.subject).toContain(`CN=${LAB_ROOT_CN}`);
    expect(state.subject).toBe(`C=KZ\nO=Steppe Lab State Technical Service\nCN=${STATE_ROOT_CN}`);
    for (const cert of [root, state]) {
      expect(cert.ca).toBe(true);
      expect(cert.checkIssued(cert)).toBe(true);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    expect(root.fingerprint256).not.toBe(state.fingerprint256);
    // Cached per process.
    expect((await labRootCa()).certPem).toBe((await labRootCa()).certPem);
  });

  it('issues site leaves (CA:FALSE, serverAuth, every name in the SAN) and caches them', async () => {
    const leaf = await issueSiteCertificate({ domain: 'www.example-lab.test', altNames: ['example-lab.test'], organization: 'Example' });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:www.example-lab.test, DNS:example-lab.test');
    expect(cert.checkHost('example-lab.test')).toBe('example-lab.test');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkIssued(new X509Certificate((await labRootCa()).certPem))).toBe(true);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(leaf.keyPem))).toBe(true);
    expect(await issueSiteCertificate({ domain: 'www.example-lab.test', altNames: ['example-lab.test'], organization: 'Example' })).toBe(leaf);
  });

  it('forges a copy of any leaf, special characters and Cyrillic included, signed by the state root', async () => {
    const original = await issueSiteCertificate({ domain: 'news.example-lab.test', organization: 'Власть, ТОО / "Vlast" + Co=1' });
    const originalCert = new X509Certificate(original.certPem);
    expect(subjectAttributes(originalCert)).toEqual([['C', 'US'], ['O', 'Власть, ТОО / "Vlast" + Co=1'], ['CN', 'news.example-lab.test']]);
    const forged = new X509Certificate((await forgeCertificate(original.certPem)).certPem);
    expect(forged.subject).toBe(originalCert.subject);
    expect(forged.subjectAltName).toBe(originalCert.subjectAltName);
    expect(forged.checkIssued(new X509Certificate((await labStateRoot()).certPem))).toBe(true);
    expect(forged.serialNumber).not.toBe(originalCert.serialNumber);
  });

  it('escapes subject separators for openssl and translates SAN text', async () => {
    expect(subjectArgument([['O', 'a/b+c=d\\e'], ['CN', 'x']])).toBe('/O=a\\/b\\+c\\=d\\\\e/CN=x');
    expect(() => subjectArgument([])).toThrow(/at least one/);
    const cert = new X509Certificate((await issueSiteCertificate({ domain: 'a.example-lab.test', altNames: ['*.example-lab.test'] })).certPem);
    expect(subjectAltNameArgument(cert)).toBe('DNS:a.example-lab.test,DNS:*.example-lab.test');
  });
});
