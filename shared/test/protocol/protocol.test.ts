import { describe, expect, it } from 'vitest';
import {
  CONTROL_PATH,
  INGEST_PATH,
  KEPT_RESPONSE_HEADERS,
  controlMeasurementFromJson,
  controlMeasurementToJson,
  controlRequestToJson,
  endpointUrl,
} from '../../src/index.js';

describe('protocol: endpoints', () => {
  it('puts an endpoint below a collector base URL, its base path kept', () => {
    expect(endpointUrl('http://127.0.0.1:8080', CONTROL_PATH).toString()).toBe('http://127.0.0.1:8080/api/v1/control');
    expect(endpointUrl('https://collector.example/steppe/', INGEST_PATH).toString()).toBe('https://collector.example/steppe/api/v1/ingest');
    expect(endpointUrl(new URL('http://[::1]:9'), CONTROL_PATH).toString()).toBe('http://[::1]:9/api/v1/control');
  });
});

describe('protocol: control messages in their JSON form', () => {
  it('sends the request as v0.1 probes did: {"url", "addresses"} and nothing else', () => {
    const body = JSON.parse(JSON.stringify(controlRequestToJson({ url: 'https://www.facebook.com/', addresses: ['31.13.72.36', '2a03:2880::1'] }))) as unknown;
    expect(body).toStrictEqual({ url: 'https://www.facebook.com/', addresses: ['31.13.72.36', '2a03:2880::1'] });
    expect(controlRequestToJson({ url: 'http://a.example/' })).toStrictEqual({ url: 'http://a.example/', addresses: [] });
  });

  it('answers with every field present, int64 as numbers, bytes in base64, and reads that back', () => {
    const sha = new Uint8Array(32).fill(0xab);
    const json = controlMeasurementToJson({ measuredAtMs: 1_607_193_000_000, dns: { addresses: [{ ip: '31.13.72.36', asn: 32934, asOrg: 'FACEBOOK' }] }, http: { statusCode: 200, bodyLength: 1234, bodySha256: sha } });
    expect(json['measuredAtMs']).toBe(1_607_193_000_000);
    expect(json['failure']).toBe('');
    expect(json['tcp']).toEqual([]);
    expect((json['http'] as Record<string, unknown>)['bodySha256']).toBe(Buffer.from(sha).toString('base64'));
    const back = controlMeasurementFromJson(JSON.parse(JSON.stringify(json)) as Record<string, unknown>);
    expect(back?.dns?.addresses?.[0]).toMatchObject({ ip: '31.13.72.36', asn: 32934, asOrg: 'FACEBOOK' });
    expect(Buffer.from(back?.http?.bodySha256 ?? []).equals(Buffer.from(sha))).toBe(true);
    expect(back?.measuredAtMs).toBe(1_607_193_000_000);
  });

  it('says undefined for an object that is no ControlMeasurement', () => {
    expect(controlMeasurementFromJson({ tcp: 'not a list' })).toBeUndefined();
  });
});

describe('protocol: response headers a measurement records', () => {
  it('keeps identifying and redirect headers, never cookies, in a fixed order', () => {
    expect([...KEPT_RESPONSE_HEADERS].slice(0, 3)).toEqual(['server', 'location', 'content-type']);
    expect(KEPT_RESPONSE_HEADERS.has('set-cookie')).toBe(false);
  });
});
