import { describe, expect, it } from 'vitest';
import {
  generateSigningKeyPair,
  keyFingerprint,
  keyPairFromPem,
  privateKeyToPem,
  probeIdFromPublicKey,
  publicKeyFromRaw,
  signBytes,
  verifyBytes,
} from '../src/index.js';

describe('ed25519 signing', () => {
  const pair = generateSigningKeyPair();
  const data = new TextEncoder().encode('the exact bytes');

  it('verifies with the right key only', () => {
    const sig = signBytes(pair.privateKey, data);
    expect(sig).toHaveLength(64);
    expect(verifyBytes(pair.publicKey, data, sig)).toBe(true);
    expect(verifyBytes(generateSigningKeyPair().publicKey, data, sig)).toBe(false);
  });

  it('fails on any flipped byte of data or signature, never throws on junk', () => {
    const sig = signBytes(pair.privateKey, data);
    const d2 = new Uint8Array(data);
    d2[0] = (d2[0] ?? 0) ^ 1;
    expect(verifyBytes(pair.publicKey, d2, sig)).toBe(false);
    const s2 = new Uint8Array(sig);
    s2[63] = (s2[63] ?? 0) ^ 1;
    expect(verifyBytes(pair.publicKey, data, s2)).toBe(false);
    expect(verifyBytes(new Uint8Array(5), data, sig)).toBe(false);
    expect(verifyBytes(pair.publicKey, data, new Uint8Array(3))).toBe(false);
  });

  it('persists the private key as PEM and derives stable ids', () => {
    const again = keyPairFromPem(privateKeyToPem(pair.privateKey));
    expect(Buffer.from(again.publicKey).equals(Buffer.from(pair.publicKey))).toBe(true);
    expect(probeIdFromPublicKey(pair.publicKey)).toMatch(/^p[0-9a-f]{32}$/);
    expect(probeIdFromPublicKey(again.publicKey)).toBe(probeIdFromPublicKey(pair.publicKey));
    expect(keyFingerprint(pair.publicKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(() => publicKeyFromRaw(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => keyPairFromPem('garbage')).toThrow(/PEM/);
  });
});
