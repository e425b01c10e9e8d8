import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Measurement, defaultVerdictReference, encodeMeasurement, decodeMeasurement, idTimestampMs, idToString, measurementToJson, verdictFor } from '@steppe/shared';
import { type ConvertedOoniMeasurement, convertOoniWebConnectivity } from '../../src/ooni/from-ooni.js';
import { ooniMeasurementId } from '../../src/ooni/measurement-id.js';

const reference = defaultVerdictReference();

function fixtureLines(name: string): string[] {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n');
}

function record(name: string, line: number): Record<string, unknown> {
  return JSON.parse(fixtureLines(name)[line - 1] ?? '') as Record<string, unknown>;
}

function convert(value: unknown): ConvertedOoniMeasurement {
  const result = convertOoniWebConnectivity(value);
  if (!result.ok) throw new Error(`not converted: ${result.reason}`);
  return result.value;
}

describe('convertOoniWebConnectivity on the fixtures (one per version)', () => {
  // [file, line, input, OONI blocking, Steppe verdict, Steppe blocking type]
  const cases: [string, number, string, string | null, string, string][] = [
    ['web_connectivity-0.1.jsonl', 1, 'http://www.adilsoz.kz/', 'dns', 'dns', 'dns_nxdomain'],
    ['web_connectivity-0.1.jsonl', 3, 'http://www.akorda.kz/', 'false', 'accessible', ''],
    ['web_connectivity-0.2.jsonl', 1, 'https://www.facebook.com/', 'tcp_ip', 'tcp_ip', 'tcp_timeout'],
    // OONI said http-diff; the control failed too: Steppe says the site is down.
    ['web_connectivity-0.2.jsonl', 2, 'http://www.kazbio.info/', 'http-diff', 'down', ''],
    ['web_connectivity-0.4.jsonl', 1, 'https://www.youtube.com/', 'http-failure', 'tls', 'tls_failure'],
    ['web_connectivity-0.4.jsonl', 2, 'https://medianet.kz/', 'false', 'accessible', ''],
    ['web_connectivity-0.5.jsonl', 1, 'http://www.spik.kz/', 'dns', 'dns', 'dns_bogon'],
    // The test helper was unreachable: neither OONI nor Steppe can tell.
    ['web_connectivity-0.5.jsonl', 2, 'https://ct.kz/', null, '', ''],
    ['web_connectivity-0.5.jsonl', 3, 'https://www.instagram.com/', 'dns', 'dns', 'dns_injection'],
    ['web_connectivity-0.5.jsonl', 4, 'https://www.cars.com/', 'false', 'accessible', ''],
  ];
  it.each(cases)('%s line %i (%s): OONI %s, Steppe %s', (file, line, input, ooniBlocking, verdict, blockingType) => {
    const converted = convert(record(file, line));
    expect(converted.measurement.input).toBe(input);
    expect(converted.ooni.blocking).toBe(ooniBlocking);
    const analysis = verdictFor({ measurement: converted.measurement, reference });
    expect(analysis.verdict).toBe(verdict);
    expect(analysis.blockingType).toBe(blockingType);
    // The converted measurement passes the codec's acceptance rules.
    const decoded = decodeMeasurement(encodeMeasurement({ ...converted.measurement, analysis }));
    expect(decoded.ok).toBe(true);
  });

  it('keeps OONI network fields (ASN and country) and never reads probe_ip', () => {
    const rec = record('web_connectivity-0.2.jsonl', 1);
    const converted = convert({ ...rec, probe_ip: '203.0.113.77' });
    expect(converted.network).toEqual({ asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' });
    expect(converted.reportId).toBe('20201206T101501Z_webconnectivity_KZ_9198_n1_Rb6wNkz1qMFJyLOp');
    expect(converted.measurement.probeId).toBe('ooni:20201206T101501Z_webconnectivity_KZ_9198_n1_Rb6wNkz1qMFJyLOp');
    const json = JSON.stringify(measurementToJson(decodeOk(converted)));
    expect(json).not.toContain('203.0.113.77');
  });

  it('maps legacy 0.1 failures and header maps into the vocabulary', () => {
    const dns = convert(record('web_connectivity-0.1.jsonl', 1));
    expect(dns.measurement.observations?.dnsQueries?.[0]?.failure).toBe('dns_nxdomain_error');
    expect(dns.measurement.observations?.httpRequests?.[0]?.failure).toBe('dns_nxdomain_error');
    expect(dns.measurement.control?.dns?.addresses?.map((a) => a.ip)).toEqual(['91.201.214.13']);
    const ok = convert(record('web_connectivity-0.1.jsonl', 3));
    const http = ok.measurement.observations?.httpRequests?.[0];
    expect(http?.statusCode).toBe(200);
    expect(http?.title).toBe('Official site of the President of Kazakhstan');
    expect(http?.responseHeaders).toEqual([{ name: 'content-type', value: 'text/html' }, { name: 'server', value: 'nginx' }]);
    expect(http?.bodyLength).toBeGreaterThan(4096);
    expect(http?.bodyPrefix?.length).toBe(4096);
    expect(http?.bodySha256?.length).toBe(32);
    expect(ok.measurement.control?.http?.headerNames).toEqual(['Content-Type', 'Server', 'X-Frame-Options']);
  });

  it('takes 0.4 TLS endpoints from the connect they followed, times in ms, certificates as DER', () => {
    const tls = convert(record('web_connectivity-0.4.jsonl', 1)).measurement.observations?.tlsHandshakes?.[0];
    expect(tls).toMatchObject({ serverName: 'www.youtube.com', ip: '142.250.74.46', port: 443, failure: 'connection_reset', t1Ms: 130.3 });
    const rec = record('web_connectivity-0.4.jsonl', 2);
    const cert = ((rec['test_keys'] as { tls_handshakes: { peer_certificates: { data: string }[] }[] }).tls_handshakes[0]?.peer_certificates[0]?.data) ?? '';
    const h = convert(rec).measurement.observations?.tlsHandshakes?.[0];
    expect(Buffer.from(h?.peerCertificates?.[0] ?? []).toString('base64')).toBe(cert);
    expect(h).toMatchObject({ tlsVersion: 'TLSv1.3', negotiatedAlpn: 'h2', verificationError: '', failure: '' });
  });

  it('records certificate verification failures as verification_error beside the handshake', () => {
    const rec = record('web_connectivity-0.4.jsonl', 2);
    const tk = rec['test_keys'] as { tls_handshakes: Record<string, unknown>[] };
    tk.tls_handshakes[0] = { ...tk.tls_handshakes[0], failure: 'ssl_unknown_authority' };
    const h = convert(rec).measurement.observations?.tlsHandshakes?.[0];
    expect(h?.verificationError).toBe('ssl_unknown_authority');
    expect(h?.failure).toBe('');
  });

  it('reads 0.5 records: t0/t, late DNS replies as extra responses, ip_info ASNs', () => {
    const injected = convert(record('web_connectivity-0.5.jsonl', 3)).measurement;
    const udp = injected.observations?.dnsQueries?.[1];
    expect(udp?.resolver).toBe('8.8.4.4:53');
    expect(udp?.responses?.map((r) => r.answers?.[0]?.value)).toEqual(['10.10.34.36', '157.240.210.174']);
    expect(udp).toMatchObject({ t0Ms: 1.1, t1Ms: 15.2 });
    expect(injected.observations?.networkEvents?.[0]?.kind).toBe('dns_duplicate_response');
    const bogon = convert(record('web_connectivity-0.5.jsonl', 1)).measurement;
    expect(bogon.control?.dns?.addresses).toEqual([{ ip: '185.98.5.149', asn: 47196, asOrg: '' }]);
    expect(bogon.control?.tls?.[0]).toMatchObject({ ip: '185.98.5.149', port: 443, validForDomain: true, failure: '' });
    const down = convert(record('web_connectivity-0.5.jsonl', 2)).measurement;
    expect(down.control?.failure).toBe('generic_timeout_error');
  });

  it('turns OONI\'s latest-first requests into the chronological redirect chain', () => {
    const rec = record('web_connectivity-0.5.jsonl', 4);
    const tk = rec['test_keys'] as { requests: Record<string, unknown>[] };
    const final = tk.requests[0] ?? {};
    const redirect = {
      failure: null,
      request: { ...(final['request'] as object), url: 'http://www.cars.com/' },
      response: { body: '', code: 301, headers_list: [['Location', 'https://www.cars.com/']], headers: { Location: 'https://www.cars.com/' } },
      t0: 0.05,
      t: 0.08,
    };
    tk.requests = [final, redirect];
    const chain = convert({ ...rec, input: 'http://www.cars.com/' }).measurement.observations?.httpRequests ?? [];
    expect(chain.map((h) => [h.url, h.statusCode, h.location])).toEqual([
      ['http://www.cars.com/', 301, 'https://www.cars.com/'],
      ['https://www.cars.com/', 200, ''],
    ]);
  });

  it('gives every record a deterministic UUIDv7-shaped id from its start time, report and input', () => {
    const a = convert(record('web_connectivity-0.2.jsonl', 1));
    const b = convert(record('web_connectivity-0.2.jsonl', 1));
    expect(idToString(a.id)).toBe(idToString(b.id));
    expect(idTimestampMs(a.id)).toBe(Date.UTC(2020, 11, 6, 10, 15, 7));
    expect((a.id[6] ?? 0) >> 4).toBe(7);
    expect((a.id[8] ?? 0) >> 6).toBe(2);
    const other = ooniMeasurementId(Date.UTC(2020, 11, 6, 10, 15, 7), a.reportId, 'https://www.instagram.com/', 'web_connectivity');
    expect(idToString(other)).not.toBe(idToString(a.id));
  });

  it('refuses what it cannot use, with the reason', () => {
    const good = record('web_connectivity-0.2.jsonl', 1);
    const reasons: [unknown, string][] = [
      ['a string', 'not a JSON object'],
      [[1, 2], 'not a JSON object'],
      [{ ...good, test_name: 'telegram' }, 'not web_connectivity'],
      [{ ...good, test_version: '1.0.0' }, 'unsupported test_version'],
      [{ ...good, measurement_start_time: '2020-02-31 10:00:00' }, 'bad measurement_start_time'],
      [{ ...good, measurement_start_time: 1607249707 }, 'bad measurement_start_time'],
      [{ ...good, input: null }, 'missing input'],
      [{ ...good, input: 'not a url' }, 'input is not a URL'],
      [{ ...good, test_keys: null }, 'missing test_keys'],
    ];
    for (const [value, kind] of reasons) {
      const result = convertOoniWebConnectivity(value);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.kind).toBe(kind);
    }
  });

  it('survives odd shapes without throwing', () => {
    const good = record('web_connectivity-0.2.jsonl', 1);
    const odd = { ...good, test_keys: { queries: 'x', tcp_connect: [null, 3, { ip: 'not-an-ip' }], requests: [{ response: { body: { format: 'hex', data: 'zz' } } }], control: [] } };
    const converted = convert(odd);
    expect(converted.measurement.observations?.tcpConnects).toEqual([]);
    expect(converted.measurement.control?.failure).toMatch(/^unknown_failure: /);
    expect(decodeMeasurement(encodeMeasurement(converted.measurement)).ok).toBe(true);
  });
});

function decodeOk(converted: ConvertedOoniMeasurement): Measurement {
  const d = decodeMeasurement(encodeMeasurement(converted.measurement));
  if (!d.ok) throw d.error;
  return d.value;
}
