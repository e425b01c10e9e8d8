import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMeasurement, newId, sha256, type MeasurementProps } from '@steppe/shared';
import { compactRaw, compactRefs, restoreRaw, type CutBlob } from '../../src/store/raw-codec.js';

function store(blobs: readonly CutBlob[]): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  for (const b of blobs) map.set(Buffer.from(b.sha256).toString('hex'), new Uint8Array(b.data));
  return map;
}

function roundTrip(raw: Uint8Array, minBytes?: number): { restored: Uint8Array; compactLength: number; blobs: number } {
  const { compact, blobs } = compactRaw(raw, minBytes);
  const map = store(blobs);
  const restored = restoreRaw(new Uint8Array(compact), (d) => map.get(Buffer.from(d).toString('hex')));
  return { restored, compactLength: compact.length, blobs: blobs.length };
}

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

const measurementArb: fc.Arbitrary<MeasurementProps> = fc.record({
  certs: fc.array(fc.array(bytes(0, 400), { maxLength: 3 }), { maxLength: 3 }),
  prefixes: fc.array(bytes(0, 300), { maxLength: 3 }),
  input: fc.webUrl(),
  annotations: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
}).map(({ certs, prefixes, input, annotations }) => ({
  id: newId(1_607_220_000_000),
  probeId: 'p0123',
  testName: 'web_connectivity',
  startTimeMs: 1_607_220_000_000,
  input,
  annotations,
  observations: {
    tlsHandshakes: certs.map((chain) => ({ serverName: 'a.example', peerCertificates: chain, tlsVersion: 'TLSv1.3' })),
    httpRequests: prefixes.map((p) => ({ url: input, bodyPrefix: p, statusCode: 200 })),
  },
}));

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

describe('compactRaw / restoreRaw', () => {
  it('restores every measurement byte for byte, with matching SHA-256', () => {
    fc.assert(fc.property(measurementArb, fc.integer({ min: 33, max: 200 }), (m, minBytes) => {
      const raw = encodeMeasurement(m);
      const { restored } = roundTrip(raw, minBytes);
      expect(Buffer.from(sha256(restored)).equals(Buffer.from(sha256(raw)))).toBe(true);
      expect(Buffer.from(restored).equals(Buffer.from(raw))).toBe(true);
    }), { numRuns: 300 });
  });

  it('cuts certificates and body prefixes, keeping small ones inline', () => {
    const big = new Uint8Array(500).fill(1);
    const small = new Uint8Array(20).fill(2);
    const raw = encodeMeasurement({ id: newId(), probeId: 'p', testName: 't', startTimeMs: 1, input: 'x', observations: { tlsHandshakes: [{ peerCertificates: [big, small, big] }], httpRequests: [{ bodyPrefix: big }] } });
    const { compact, blobs } = compactRaw(raw);
    expect(blobs).toHaveLength(3);
    expect(new Set(blobs.map((b) => Buffer.from(b.sha256).toString('hex'))).size).toBe(1);
    expect(compactRefs(compact).refs.map((r) => r.length)).toEqual([500, 500, 500]);
    expect(compact.length).toBeLessThan(raw.length - 1300);
  });

  it('keeps bytes that are not well-formed protobuf whole (and any bytes round-trip)', () => {
    fc.assert(fc.property(bytes(0, 600), (raw) => {
      const { restored } = roundTrip(raw, 33);
      expect(Buffer.from(restored).equals(Buffer.from(raw))).toBe(true);
    }), { numRuns: 300 });
    const truncated = encodeMeasurement({ id: newId(), probeId: 'p', testName: 't', startTimeMs: 1, input: 'x', observations: { httpRequests: [{ bodyPrefix: new Uint8Array(300) }] } }).subarray(0, 100);
    expect(compactRaw(truncated).blobs).toHaveLength(0);
  });

  it('restores an encoding another encoder could make: non-minimal varints and unknown fields', () => {
    const content = new Uint8Array(200).fill(9);
    // HttpRequest { 9: content } with the length as a 3-byte non-minimal varint.
    const http = Buffer.concat([Buffer.from([0x4a, 0xc8, 0x81, 0x00]), content, Buffer.from([0xf8, 0x07, 0x01])]); // + unknown field 127 varint
    const observations = Buffer.concat([Buffer.from([0x22]), varint(http.length), http]);
    const raw = Buffer.concat([Buffer.from([0x1a, 0x01, 0x74]), Buffer.from([0xa2, 0x01]), varint(observations.length), observations]);
    const { restored, blobs } = roundTrip(raw);
    expect(blobs).toBe(1);
    expect(Buffer.from(restored).equals(raw)).toBe(true);
  });

  it('refuses to restore when a blob is missing or has the wrong length', () => {
    const raw = encodeMeasurement({ id: newId(), probeId: 'p', testName: 't', startTimeMs: 1, input: 'x', observations: { httpRequests: [{ bodyPrefix: new Uint8Array(300).fill(3) }] } });
    const { compact } = compactRaw(raw);
    expect(() => restoreRaw(compact, () => undefined)).toThrow(/missing/);
    expect(() => restoreRaw(compact, () => new Uint8Array(10))).toThrow(/expected 300/);
    expect(() => restoreRaw(new Uint8Array([7, 1, 2]), () => undefined)).toThrow(/unknown stored raw format/);
  });
});
