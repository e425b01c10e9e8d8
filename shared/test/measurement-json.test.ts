import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMeasurement, encodeMeasurement, measurementToJson, newId, idToString, wire } from '../src/index.js';

function selfSignedDer(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-json-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=lab', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  return new Uint8Array(new X509Certificate(readFileSync(join(dir, 'c.pem'))).raw);
}

describe('measurementToJson', () => {
  it('gives snake_case keys, a UUID id, hex digests, PEM certificates and hoisted verdict fields', () => {
    const id = newId(Date.UTC(2020, 11, 6));
    const der = selfSignedDer();
    const decoded = decodeMeasurement(encodeMeasurement({
      id,
      probeId: 'p1',
      testName: 'web_connectivity',
      startTimeMs: Date.UTC(2020, 11, 6),
      input: 'https://www.youtube.com/',
      observations: {
        tlsHandshakes: [{ serverName: 'www.youtube.com', ip: '127.1.0.12', port: 443, peerCertificates: [der], verificationError: 'ssl_unknown_authority' }],
        httpRequests: [{ url: 'https://www.youtube.com/', bodySha256: new Uint8Array(32).fill(0xab), statusCode: 200 }],
      },
      analysis: { verdict: 'interception', anomaly: true, confirmed: true, failure: '' },
    }));
    if (!decoded.ok) throw decoded.error;
    const json = measurementToJson(decoded.value);
    expect(json['id']).toBe(idToString(id));
    expect(json['start_time']).toBe('2020-12-06T00:00:00.000Z');
    expect(json['verdict']).toBe('interception');
    expect(json['confirmed']).toBe(true);
    expect(json['failure']).toBeNull();
    const obs = json['observations'] as { tls_handshakes: { peer_certificates: string[]; verification_error: string }[]; http_requests: { body_sha256: string }[] };
    expect(obs.tls_handshakes[0]?.verification_error).toBe('ssl_unknown_authority');
    const pem = obs.tls_handshakes[0]?.peer_certificates[0] ?? '';
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(Buffer.from(new X509Certificate(pem).raw).equals(Buffer.from(der))).toBe(true);
    expect(obs.http_requests[0]?.body_sha256).toBe('ab'.repeat(32));
    // Defaults are present, so consumers can rely on every key.
    expect(json).toHaveProperty('probe_asn', 0);
    expect(json).toHaveProperty('category_code', '');
  });

  it('gives 0 and null, never a date, for a measurement without a start time', () => {
    const json = measurementToJson(wire.Measurement.decode(wire.Measurement.encode({ id: newId(Date.UTC(2020, 11, 6)), probeId: 'p1' }).finish()));
    expect(json['start_time_ms']).toBe(0);
    expect(json['start_time']).toBeNull();
    expect(JSON.stringify(json)).not.toMatch(/2000-01-01|1970-01-01/);
  });
});
