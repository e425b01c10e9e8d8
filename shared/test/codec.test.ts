import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DecodeError,
  PROTOCOL_VERSION,
  decodeFrame,
  decodeMeasurement,
  encodeFrame,
  encodeMeasurement,
  generateSigningKeyPair,
  newId,
  openBatch,
  probeIdFromPublicKey,
  sealBatch,
  verifyMeasurementProof,
  type FrameProps,
  type MeasurementProps,
} from '../src/index.js';

function sampleMeasurement(probeId: string, input = 'https://www.facebook.com/'): MeasurementProps {
  return {
    id: newId(),
    probeId,
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: Date.UTC(2020, 11, 6, 4, 2),
    runtimeMs: 812.5,
    input,
    domain: 'www.facebook.com',
    categoryCode: 'GRP',
    observations: {
      dnsQueries: [{ resolver: '127.0.0.53:53', transport: 1, queryType: 'A', hostname: 'www.facebook.com', responses: [{ rcode: 0, answers: [{ answerType: 'A', value: '127.1.0.10', ttl: 300 }], tMs: 3.5, idMatches: true }], t0Ms: 0.1, t1Ms: 3.6 }],
      tcpConnects: [{ ip: '127.1.0.10', port: 443, failure: '', t0Ms: 4, t1Ms: 4.4 }],
      tlsHandshakes: [{ serverName: 'www.facebook.com', ip: '127.1.0.10', port: 443, failure: 'connection_reset', t0Ms: 5, t1Ms: 6 }],
    },
    analysis: { verdict: 'tls', blockingType: 'sni_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake' },
  };
}

const keys = generateSigningKeyPair();
const probeId = probeIdFromPublicKey(keys.publicKey);

describe('frame codec', () => {
  const frames: Record<string, FrameProps> = {
    hello: { hello: { protocolVersion: PROTOCOL_VERSION, probeId, publicKey: keys.publicKey, softwareVersion: '0.1.0', capabilities: ['web_connectivity'], enrollmentToken: 'tok', testListVersion: '2020-12-05' } },
    welcome: { welcome: { serverTimeMs: 1_607_220_000_000, limits: { maxFrameBytes: 1 << 20, maxBatchMeasurements: 200, maxInFlight: 4, maxBatchesPerSecond: 20, maxBytesPerSecond: 4 << 20 }, testListVersion: 'v2', schedule: { coreCron: '*/15 * * * *', fullCron: '0 */6 * * *', maxJitterSeconds: 300 }, collectorId: 'c1', lastAckedSequence: 41 } },
    batch: { batch: sealBatch({ keys, probeId, sequence: 42, createdMs: 1_607_220_000_000, measurements: [encodeMeasurement(sampleMeasurement(probeId))] }) },
    ack: { ack: { sequence: 42, storedIds: [newId()], duplicateIds: [newId()] } },
    error: { error: { code: 'STEPPE_ERR_BAD_SIGNATURE', message: 'nope', sequence: 42, closeCode: 1008 } },
    ping: { ping: { nonce: 7, sentMs: 1_607_220_000_123 } },
    pong: { pong: { nonce: 7, sentMs: 1_607_220_000_123 } },
  };

  for (const [kind, frame] of Object.entries(frames)) {
    it(`round-trips a ${kind} frame`, () => {
      const decoded = decodeFrame(encodeFrame(frame));
      if (!decoded.ok) throw decoded.error;
      expect(decoded.value.body).toBe(kind);
      // Byte-identical re-encoding proves no field was lost or altered.
      expect(Buffer.from(encodeFrame(decoded.value)).equals(Buffer.from(encodeFrame(frame)))).toBe(true);
    });
  }

  it('keeps 64-bit integers as numbers', () => {
    const decoded = decodeFrame(encodeFrame(frames['welcome'] ?? {}));
    if (!decoded.ok) throw decoded.error;
    expect(decoded.value.welcome?.serverTimeMs).toBe(1_607_220_000_000);
    expect(typeof decoded.value.welcome?.lastAckedSequence).toBe('number');
  });

  it('refuses a frame with no body', () => {
    const decoded = decodeFrame(new Uint8Array());
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.code).toBe('STEPPE_ERR_FRAME_INVALID');
  });

  it('refuses a hello whose probe id does not derive from its key', () => {
    const other = generateSigningKeyPair();
    const decoded = decodeFrame(encodeFrame({ hello: { protocolVersion: 1, probeId, publicKey: other.publicKey, softwareVersion: '0.1.0' } }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.message).toMatch(/probe_id does not derive/);
  });

  it('answers truncated frames with a coded error', () => {
    const bytes = encodeFrame(frames['batch'] ?? {});
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const decoded = decodeFrame(bytes.subarray(0, cut));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.error).toBeInstanceOf(DecodeError);
        expect(['STEPPE_ERR_FRAME_DECODE', 'STEPPE_ERR_FRAME_INVALID']).toContain(decoded.error.code);
      }
    }
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const decoded = decodeFrame(bytes);
        if (!decoded.ok) expect(decoded.error.code).toMatch(/^STEPPE_ERR_/);
        const m = decodeMeasurement(bytes);
        if (!m.ok) expect(m.error.code).toMatch(/^STEPPE_ERR_/);
      }),
      { numRuns: 3000, seed: 20201206 },
    );
  });
});

describe('batch signatures', () => {
  const measurements = [encodeMeasurement(sampleMeasurement(probeId)), encodeMeasurement(sampleMeasurement(probeId, 'https://www.instagram.com/'))];
  const batch = sealBatch({ keys, probeId, sequence: 1, createdMs: 1_607_220_000_000, measurements });

  it('opens with the signing key', () => {
    const opened = openBatch(batch, keys.publicKey, probeId);
    if (!opened.ok) throw opened.error;
    expect(opened.value.header.sequence).toBe(1);
    expect(opened.value.measurements).toHaveLength(2);
  });

  it('fails with another key', () => {
    const other = generateSigningKeyPair();
    const opened = openBatch(batch, other.publicKey, probeId);
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.error.code).toBe('STEPPE_ERR_BAD_SIGNATURE');
  });

  it('fails when any single byte of the header or signature flips', () => {
    const header = batch.header ?? new Uint8Array();
    const signature = batch.signature ?? new Uint8Array();
    for (let i = 0; i < header.length; i += 1) {
      const tampered = new Uint8Array(header);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(openBatch({ ...batch, header: tampered }, keys.publicKey, probeId).ok).toBe(false);
    }
    for (let i = 0; i < signature.length; i += 1) {
      const tampered = new Uint8Array(signature);
      tampered[i] = (tampered[i] ?? 0) ^ 0x80;
      expect(openBatch({ ...batch, signature: tampered }, keys.publicKey, probeId).ok).toBe(false);
    }
  });

  it('fails when a measurement byte flips, is dropped or is reordered', () => {
    const first = new Uint8Array(measurements[0] ?? new Uint8Array());
    first[first.length - 1] = (first[first.length - 1] ?? 0) ^ 0x01;
    const flipped = openBatch({ ...batch, measurements: [first, measurements[1] ?? new Uint8Array()] }, keys.publicKey, probeId);
    expect(flipped.ok).toBe(false);
    if (!flipped.ok) expect(flipped.error.code).toBe('STEPPE_ERR_BATCH_MISMATCH');
    expect(openBatch({ ...batch, measurements: measurements.slice(0, 1) }, keys.publicKey, probeId).ok).toBe(false);
    expect(openBatch({ ...batch, measurements: [...measurements].reverse() }, keys.publicKey, probeId).ok).toBe(false);
  });

  it('refuses a batch whose header names another probe', () => {
    const opened = openBatch(batch, keys.publicKey, 'p0000');
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.error.code).toBe('STEPPE_ERR_PROBE_MISMATCH');
  });

  it('lets anyone verify one stored measurement with its batch proof', () => {
    const m = measurements[1] ?? new Uint8Array();
    expect(verifyMeasurementProof(m, batch.header ?? new Uint8Array(), batch.signature ?? new Uint8Array(), keys.publicKey)).toBe(true);
    const altered = new Uint8Array(m);
    altered[10] = (altered[10] ?? 0) ^ 0xff;
    expect(verifyMeasurementProof(altered, batch.header ?? new Uint8Array(), batch.signature ?? new Uint8Array(), keys.publicKey)).toBe(false);
  });
});

describe('measurement codec', () => {
  it('round-trips a measurement', () => {
    const props = sampleMeasurement(probeId);
    const decoded = decodeMeasurement(encodeMeasurement(props));
    if (!decoded.ok) throw decoded.error;
    expect(decoded.value.input).toBe(props.input);
    expect(decoded.value.observations?.dnsQueries?.[0]?.responses?.[0]?.answers?.[0]?.value).toBe('127.1.0.10');
    expect(decoded.value.analysis?.verdict).toBe('tls');
  });

  it('refuses an unknown verdict or failure string', () => {
    const bad = decodeMeasurement(encodeMeasurement({ ...sampleMeasurement(probeId), analysis: { verdict: 'censored!!' } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('STEPPE_ERR_MEASUREMENT_INVALID');
    const badFailure = decodeMeasurement(encodeMeasurement({ ...sampleMeasurement(probeId), observations: { tcpConnects: [{ ip: '127.0.0.1', port: 1, failure: 'oops' }] } }));
    expect(badFailure.ok).toBe(false);
  });

  it('refuses a measurement without a 16-byte id', () => {
    const bad = decodeMeasurement(encodeMeasurement({ ...sampleMeasurement(probeId), id: new Uint8Array(3) }));
    expect(bad.ok).toBe(false);
  });
});
