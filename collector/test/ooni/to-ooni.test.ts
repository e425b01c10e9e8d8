import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Measurement, decodeMeasurement, defaultVerdictReference, encodeMeasurement, idToString, verdictFor } from '@steppe/shared';
import { convertOoniWebConnectivity } from '../../src/ooni/from-ooni.js';
import { type OoniExportContext, blockingFromVerdict, toOoniMeasurement } from '../../src/ooni/to-ooni.js';
import { SUMMIT_MS, probeMeasurement } from '../export/helpers.js';

const reference = defaultVerdictReference();

function decoded(props: Parameters<typeof encodeMeasurement>[0]): Measurement {
  const d = decodeMeasurement(encodeMeasurement(props));
  if (!d.ok) throw d.error;
  return d.value;
}

function context(m: Measurement, overrides: Partial<OoniExportContext> = {}): OoniExportContext {
  return {
    asn: 9198,
    cc: 'KZ',
    networkName: 'JSC Kazakhtelecom',
    verdict: m.analysis?.verdict ?? '',
    blockingType: m.analysis?.blockingType ?? '',
    anomaly: m.analysis?.anomaly ?? false,
    confirmed: m.analysis?.confirmed ?? false,
    failure: m.analysis?.failure ? m.analysis.failure : null,
    fingerprintId: null,
    source: 'steppe',
    reportId: null,
    ooni: null,
    receivedMs: m.startTimeMs + 60_000,
    ...overrides,
  };
}

type Obj = Record<string, unknown>;

describe('toOoniMeasurement', () => {
  it('writes df-000 base keys: OONI times, "AS" ASN, the placeholder probe_ip, a report id of OONI\'s shape', () => {
    const m = decoded(probeMeasurement('p0123', SUMMIT_MS + 7_890, 'www.facebook.com', true));
    const o = toOoniMeasurement(m, context(m));
    expect(o).toMatchObject({
      data_format_version: '0.2.0',
      input: 'https://www.facebook.com/',
      measurement_start_time: '2020-12-06 04:02:07',
      test_start_time: '2020-12-06 04:02:07',
      probe_asn: 'AS9198',
      probe_cc: 'KZ',
      probe_ip: '127.0.0.1',
      probe_network_name: 'JSC Kazakhtelecom',
      resolver_ip: '92.46.63.11',
      software_name: 'steppe-probe',
      test_name: 'web_connectivity',
      test_runtime: 1.2345,
      test_helpers: { backend: { address: 'https://collector.example.org', type: 'https' } },
    });
    expect(o['report_id']).toMatch(/^20201206T040207Z_webconnectivity_KZ_9198_n1_steppe[0-9a-f]{16}$/);
    expect((o['annotations'] as Obj)['steppe_measurement_id']).toBe(idToString(m.id));
    // The probe's own (ignored) network claim does not leak into the export.
    expect(JSON.stringify(o)).not.toContain('64512');
  });

  it('writes web_connectivity test keys in OONI\'s shapes (seconds, BinaryData, TH control)', () => {
    const m = decoded(probeMeasurement('p0123', SUMMIT_MS, 'www.facebook.com', false));
    const tk = toOoniMeasurement(m, context(m))['test_keys'] as Obj;
    expect(tk['queries']).toEqual([{
      answers: [{ answer_type: 'A', ipv4: '157.240.210.35', ttl: 300 }],
      engine: 'udp', failure: null, hostname: 'www.facebook.com', query_type: 'A', resolver_hostname: null, resolver_port: null,
      resolver_address: '92.46.63.11:53', t0: 0.001, t: 0.0215, rcode: 0, tags: ['classic'],
    }]);
    expect(tk['tcp_connect']).toEqual([{ ip: '157.240.210.35', port: 443, status: { failure: null, success: true, blocked: false }, t0: 0.022, t: 0.0613 }]);
    const tls = (tk['tls_handshakes'] as Obj[])[0];
    expect(tls).toMatchObject({ address: '157.240.210.35:443', failure: null, server_name: 'www.facebook.com', tls_version: 'TLSv1.3', t: 0.1029 });
    expect(tls?.['peer_certificates']).toEqual([{ format: 'base64', data: Buffer.from([0x30, 0x82, 0x01, 0x0a, 1, 2, 3]).toString('base64') }]);
    const request = (tk['requests'] as Obj[])[0] ?? {};
    expect((request['response'] as Obj)).toMatchObject({ code: 200, body: '<html><head><title>Facebook, "log in"</title></head>', headers: { 'content-type': 'text/html' }, headers_list: [['content-type', 'text/html']] });
    expect(tk['control']).toMatchObject({
      tcp_connect: { '157.240.210.35:443': { status: true, failure: null } },
      tls_handshake: { '157.240.210.35:443': { server_name: 'www.facebook.com', status: true, failure: null } },
      http_request: { status_code: 200, body_length: 60, title: 'Facebook, "log in"', headers: { 'content-type': '' }, failure: null },
      dns: { failure: null, addrs: ['157.240.210.35'] },
      // flags: 1 resolved by the probe, 2 by the control, 8 valid for the domain (control TLS).
      ip_info: { '157.240.210.35': { asn: 32934, flags: 11 } },
    });
    expect(tk).toMatchObject({ status_code_match: true, title_match: true, dns_consistency: 'consistent', blocking: false, accessible: true, control_failure: null });
    expect(tk['x_steppe']).toMatchObject({ verdict: 'accessible', source: 'steppe', measurement_id: idToString(m.id) });
  });

  it('maps Steppe verdicts onto OONI blocking values, keeping the verdict in x_steppe', () => {
    const m = decoded(probeMeasurement('p0123', SUMMIT_MS, 'www.facebook.com', true));
    const tk = toOoniMeasurement(m, context(m))['test_keys'] as Obj;
    // No request was made after the handshake failed: OONI's HTTP experiment would have failed there.
    expect(tk).toMatchObject({ blocking: 'http-failure', accessible: false, http_experiment_failure: 'connection_reset', requests: [] });
    expect((tk['tls_handshakes'] as Obj[])[0]?.['failure']).toBe('connection_reset');
    expect(tk['x_steppe']).toMatchObject({ verdict: 'tls', blocking_type: 'sni_reset', anomaly: true });
    expect(blockingFromVerdict('interception', undefined)).toEqual({ blocking: 'http-failure', accessible: false });
    expect(blockingFromVerdict('blockpage', undefined)).toEqual({ blocking: 'http-diff', accessible: false });
    expect(blockingFromVerdict('down', undefined)).toEqual({ blocking: false, accessible: false });
    expect(blockingFromVerdict('', undefined)).toEqual({ blocking: null, accessible: null });
  });

  it('writes a binary body prefix as BinaryData and marks a prefix shorter than the body as truncated', () => {
    const props = probeMeasurement('p0123', SUMMIT_MS, 'www.facebook.com', false);
    const http = props.observations?.httpRequests?.[0];
    if (http) {
      http.bodyPrefix = new Uint8Array([0xff, 0xfe, 0x00, 0x41]);
      http.bodyLength = 90_000;
    }
    const m = decoded(props);
    const response = ((toOoniMeasurement(m, context(m))['test_keys'] as Obj)['requests'] as Obj[])[0]?.['response'] as Obj;
    expect(response['body']).toEqual({ format: 'base64', data: '//4AQQ==' });
    expect(response['body_is_truncated']).toBe(true);
    expect(response['x_body_length']).toBe(90_000);
  });

  it('keeps OONI\'s own blocking/accessible for imported measurements', () => {
    const line = readFileSync(new URL('./fixtures/web_connectivity-0.2.jsonl', import.meta.url), 'utf8').split('\n')[1] ?? '';
    const c = convertOoniWebConnectivity(JSON.parse(line));
    if (!c.ok) throw new Error(c.reason);
    const analysis = verdictFor({ measurement: c.value.measurement, reference });
    const m = decoded({ ...c.value.measurement, analysis });
    const o = toOoniMeasurement(m, context(m, { source: 'ooni', reportId: c.value.reportId, ooni: c.value.ooni, asn: 9198 }));
    expect(o['report_id']).toBe(c.value.reportId);
    expect(o['test_version']).toBe('0.2.0');
    expect(o['test_keys']).toMatchObject({ blocking: 'http-diff', accessible: false, x_steppe: { verdict: 'down', ooni_blocking: 'http-diff', source: 'ooni' } });
  });

  it('round-trips: an export read back by the OONI importer gives Steppe the same verdict', () => {
    for (const file of [
      'web_connectivity-0.1.jsonl', 'web_connectivity-0.2.jsonl', 'web_connectivity-0.4.jsonl', 'web_connectivity-0.5.jsonl',
      'web_connectivity-0.5-resolvers.jsonl', 'web_connectivity-redirects.jsonl', 'web_connectivity-0.5-redirect-failures.jsonl',
      'web_connectivity-challenges.jsonl', 'web_connectivity-differences.jsonl',
    ]) {
      const lines = readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8').split('\n');
      for (const line of lines) {
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        const c = convertOoniWebConnectivity(rec);
        if (!c.ok) continue;
        const analysis = verdictFor({ measurement: c.value.measurement, reference });
        const m = decoded({ ...c.value.measurement, analysis });
        const exported = JSON.parse(JSON.stringify(toOoniMeasurement(m, context(m, { source: 'ooni', reportId: c.value.reportId, ooni: c.value.ooni }))));
        const back = convertOoniWebConnectivity(exported);
        if (!back.ok) throw new Error(`${file}: ${back.reason}`);
        expect(idToString(back.value.id), `${file} ${m.input}`).toBe(idToString(c.value.id));
        const again = verdictFor({ measurement: back.value.measurement, reference });
        expect([m.input, again.verdict, again.blockingType]).toEqual([m.input, analysis.verdict, analysis.blockingType]);
      }
    }
  });
});
