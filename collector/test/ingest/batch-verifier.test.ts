import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMeasurement, publicKeyFromRaw, sha256 } from '@steppe/shared';
import { verifyBatch } from '../../src/ingest/index.js';
import { batchFrame, measurement, newProbe } from './fixtures.js';

const network = { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' };

describe('verifyBatch', () => {
  it('hands the store the signed bytes untouched and the decoded fields it reads, without the bulky observations', () => {
    const p = newProbe();
    const ms = [0, 1, 2].map((i) => measurement(p.probeId, Date.now() - 10_000 + i, {
      observations: { tlsHandshakes: [{ serverName: 'www.facebook.com', peerCertificates: [new Uint8Array(900).fill(i + 1)] }], httpRequests: [{ url: 'https://www.facebook.com/', bodyPrefix: new Uint8Array(500).fill(7) }] },
      control: { failure: '' },
    }));
    const { frame } = batchFrame(p, 1, ms);
    const decoded = decodeFrame(frame);
    if (!decoded.ok || decoded.value.batch == null) throw new Error('fixture frame does not decode');
    const result = verifyBatch(decoded.value.batch, { probeId: p.probeId, publicKey: publicKeyFromRaw(p.keys.publicKey), network }, 500, 1_000);
    if (!result.ok) throw result.error;
    expect(result.batch.measurements).toHaveLength(3);
    result.batch.measurements.forEach((m, i) => {
      const original = encodeMeasurement(ms[i] ?? {});
      expect(Buffer.from(sha256(m.raw)).equals(Buffer.from(sha256(original)))).toBe(true);
      expect(Buffer.from(m.id).equals(Buffer.from(ms[i]?.id as Uint8Array))).toBe(true);
      expect(m.decoded.domain).toBe('www.facebook.com');
      expect(m.decoded.analysis?.verdict).toBe('tcp_ip');
      expect(m.decoded.observations ?? null).toBeNull();
      expect(m.decoded.control ?? null).toBeNull();
    });
  });

  it('still validates what it releases: a failure string outside the vocabulary rejects the batch', () => {
    const p = newProbe();
    const bad = measurement(p.probeId, Date.now() - 1_000, { observations: { tcpConnects: [{ ip: '198.18.0.1', port: 443, failure: 'made_up_failure' }] } });
    const { frame } = batchFrame(p, 1, [measurement(p.probeId), bad]);
    const decoded = decodeFrame(frame);
    if (!decoded.ok || decoded.value.batch == null) throw new Error('fixture frame does not decode');
    const result = verifyBatch(decoded.value.batch, { probeId: p.probeId, publicKey: publicKeyFromRaw(p.keys.publicKey), network }, 500, 1_000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('STEPPE_ERR_MEASUREMENT_INVALID');
  });
});
