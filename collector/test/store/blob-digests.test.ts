import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMeasurement, newId, sha256 } from '@steppe/shared';
import { BlobDigests } from '../../src/store/blob-cache.js';
import { RawCompactor, compactRaw, restoreRaw, sha256Of } from '../../src/store/raw-codec.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A BlobDigests with a counting hash and a recorder of blob writes. */
function harness(maxBytes = 1 << 20): { digests: BlobDigests; hashed: () => number; writes: string[]; digest: (raw: Uint8Array, start?: number, end?: number) => string } {
  const digests = new BlobDigests(maxBytes);
  let hashed = 0;
  const writes: string[] = [];
  const hash = (d: Uint8Array): Uint8Array => {
    hashed += 1;
    return sha256Of(d);
  };
  return {
    digests,
    hashed: () => hashed,
    writes,
    digest: (raw, start = 0, end = raw.length) => hex(digests.digest(raw, start, end, hash, (sha) => writes.push(hex(sha)))),
  };
}

describe('BlobDigests', () => {
  it('gives the SHA-256 of exactly the bytes asked for, hashing a repeated content once', () => {
    const h = harness();
    const content = new Uint8Array(300).map((_, i) => i * 7);
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), content, Buffer.from([9])]);
    expect(h.digest(content)).toBe(hex(sha256(content)));
    expect(h.digest(framed, 3, 303)).toBe(hex(sha256(content)));
    expect(h.hashed()).toBe(1);
  });

  it('never shares a digest between different bytes, whatever their fingerprint', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 30 }), (contents) => {
      const h = harness();
      for (const c of contents) expect(h.digest(c)).toBe(hex(sha256(c)));
      for (const c of contents) expect(h.digest(c)).toBe(hex(sha256(c)));
    }), { numRuns: 200 });
    // Same length, same sampled bytes (all but one byte equal): still told apart.
    const a = new Uint8Array(1000).fill(5);
    const b = new Uint8Array(1000).fill(5);
    b[3] = 6;
    const h = harness();
    expect(h.digest(a)).not.toBe(h.digest(b));
    expect(h.digest(b)).toBe(hex(sha256(b)));
  });

  it('writes a blob once per transaction until a commit stores it, and again after a rollback', () => {
    const h = harness();
    const c = new Uint8Array(200).fill(1);
    h.digest(c);
    h.digest(c);
    expect(h.writes).toHaveLength(1); // same transaction
    h.digests.rolledBack();
    h.digest(c);
    expect(h.writes).toHaveLength(2); // the rolled-back write did not store it
    h.digests.committed();
    h.digest(c);
    h.digests.committed();
    h.digest(c);
    expect(h.writes).toHaveLength(2); // stored: never written again
  });

  it('stays within its byte budget by forgetting, and then hashes and writes again', () => {
    const h = harness(1000);
    const contents = Array.from({ length: 10 }, (_, i) => new Uint8Array(300).fill(i + 1));
    for (const c of contents) h.digest(c);
    h.digests.committed();
    const hashedBefore = h.hashed();
    const writesBefore = h.writes.length;
    for (const c of contents) expect(h.digest(c)).toBe(hex(sha256(c)));
    expect(h.hashed()).toBeGreaterThan(hashedBefore); // some were forgotten
    expect(h.writes.length - writesBefore).toBe(h.hashed() - hashedBefore); // forgotten ones are written again (INSERT OR IGNORE)
  });
});

describe('RawCompactor', () => {
  it('writes the same compact form as compactRaw and reuses its buffer', () => {
    const digests = new BlobDigests(1 << 20);
    const compactor = new RawCompactor(96, (raw, s, e) => digests.digest(raw, s, e, sha256Of, () => undefined));
    const cert = new Uint8Array(1200).map((_, i) => (i * 31) & 0xff);
    const body = Buffer.from('<html>'.repeat(50));
    for (let i = 0; i < 5; i += 1) {
      const raw = encodeMeasurement({ id: newId(), probeId: 'p', testName: 't', startTimeMs: 1, input: `https://a${i}.example/`,
        observations: { tlsHandshakes: [{ peerCertificates: [cert, new Uint8Array(20)] }], httpRequests: [{ bodyPrefix: body }] } });
      const expected = compactRaw(raw, 96);
      const got = compactor.compact(raw);
      expect(Buffer.from(got).equals(Buffer.from(expected.compact))).toBe(true);
      const blobs = new Map(expected.blobs.map((b) => [hex(b.sha256), b.data]));
      expect(Buffer.from(restoreRaw(new Uint8Array(got), (d) => blobs.get(hex(d)))).equals(Buffer.from(raw))).toBe(true);
    }
    // Bytes that are not a measurement are kept whole, as compactRaw does.
    const garbage = new Uint8Array([0xff, 0xff, 0xff]);
    expect(Buffer.from(compactor.compact(garbage)).equals(Buffer.from(compactRaw(garbage).compact))).toBe(true);
  });
});
