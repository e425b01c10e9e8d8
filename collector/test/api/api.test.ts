import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, derToPem, idToString, verifyMeasurementProof } from '@steppe/shared';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import { registerApiRoutes } from '../../src/api/routes.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import type { Store } from '../../src/store/store.js';
import { describeEngines } from '../store/engines.js';
import { seedEventsFromFile } from '../../src/timeline/events.js';
import { BEELINE, KAZAKHTELECOM, SHARED_INTERMEDIATE } from '../store/fixtures.js';
import { HOUR, MIN, addProbe, every, ingest } from '../timeline/seed.js';

const DAY = Date.UTC(2020, 11, 6);
const at = (h: number, m = 0): number => DAY + h * HOUR + m * MIN;
const TOKEN = 'test-admin-token-0123456789';

describeEngines('api', (engine) => {
let store: Store;
let listening: Listening;
let base = '';
const clock = new ManualClock(at(12));
let facebookIds: string[] = [];

beforeAll(async () => {
  store = await engine.open();
  await seedEventsFromFile(store, at(0));
  const kt = [await addProbe(store, KAZAKHTELECOM, DAY), await addProbe(store, KAZAKHTELECOM, DAY), await addProbe(store, KAZAKHTELECOM, DAY)];
  for (const [i, probe] of kt.entries()) {
    const ids = await ingest(store, probe, every(10 * MIN, at(0), at(12), i * 3 * MIN).map((t) => (t >= at(4, 2) && t < at(7, 47)
      ? { startMs: t, domain: 'www.facebook.com', verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset' }
      : { startMs: t, domain: 'www.facebook.com' })));
    facebookIds.push(...ids.map(idToString));
  }
  const other = await addProbe(store, BEELINE, DAY);
  await ingest(store, other, every(30 * MIN, at(0), at(12)).map((t) => ({ startMs: t, domain: 'www.youtube.com', categoryCode: 'MMED' })));
  const router = new Router();
  registerApiRoutes(router, { store, clock, adminToken: TOKEN });
  listening = await listenRouter(router, '127.0.0.1', 0);
  base = listening.url;
});

afterAll(async () => {
  await listening.close();
  await store.close();
});

async function get(path: string): Promise<{ status: number; body: any; text: string; type: string }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, text, type, body: type.includes('json') ? JSON.parse(text) : undefined };
}

describe('GET /api/v1/measurements', () => {
  it('filters and pages with a cursor, newest first, every row once', async () => {
    const seen: string[] = [];
    let path = '/api/v1/measurements?domain=www.facebook.com&probe_asn=AS9198&limit=50';
    for (let i = 0; i < 10; i += 1) {
      const { status, body } = await get(path);
      expect(status).toBe(200);
      for (const r of body.results) seen.push(r.measurement_id);
      if (body.next_cursor === null) break;
      path = `/api/v1/measurements?domain=www.facebook.com&probe_asn=AS9198&limit=50&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(seen).toHaveLength(facebookIds.length);
    expect(new Set(seen)).toEqual(new Set(facebookIds));
  });

  it('combines filters: anomaly, verdict, failure, time range, country', async () => {
    const { body } = await get(`/api/v1/measurements?probe_cc=kz&anomaly=true&verdict=tls&failure=connection_reset&since=2020-12-06T05:00:00Z&until=2020-12-06T06:00:00Z&limit=1000&order=asc`);
    expect(body.results).toHaveLength(18);
    for (const r of body.results) {
      expect(r).toMatchObject({ anomaly: true, verdict: 'tls', failure: 'connection_reset', probe_asn: 9198, probe_cc: 'KZ', domain: 'www.facebook.com', source: 'steppe' });
      expect(Date.parse(r.start_time)).toBeGreaterThanOrEqual(at(5));
    }
    expect(body.results.map((r: { start_time: string }) => r.start_time)).toEqual([...body.results.map((r: { start_time: string }) => r.start_time)].sort());
    const none = await get('/api/v1/measurements?failure=false&domain=www.youtube.com&limit=1000');
    expect(none.body.results).toHaveLength(24);
  });

  it('answers 400 naming the bad parameter', async () => {
    for (const [query, name] of [
      ['probe_asn=ASX', 'probe_asn'], ['since=yesterday', 'since'], ['anomaly=maybe', 'anomaly'], ['verdict=blocked', 'verdict'],
      ['limit=0', 'limit'], ['cursor=garbage', 'cursor'], ['failure=bogus', 'failure'], ['since=2020-12-07&until=2020-12-06', 'until'],
      ['probe_cc=KAZ', 'probe_cc'], ['order=up', 'order'], ['domain=a%20b', 'domain'],
    ] as const) {
      const { status, body } = await get(`/api/v1/measurements?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('STEPPE_ERR_INVALID_ARGUMENT');
      expect(body.error.message, query).toContain(`"${name}"`);
    }
    const injection = await get(`/api/v1/measurements?domain=${encodeURIComponent("x' OR 1=1 --")}`);
    expect(injection.status).toBe(400);
  });
});

describe('GET /api/v1/measurements/{id}', () => {
  it('returns full observations with PEM certificates and a proof anyone can verify', async () => {
    const id = facebookIds[5] ?? '';
    const { status, body } = await get(`/api/v1/measurements/${id}`);
    expect(status).toBe(200);
    expect(body.id).toBe(id);
    expect(body.probe_asn).toBe(9198);
    expect(body.probe_network_name).toBe('JSC Kazakhtelecom');
    // The collector's columns are the listing's, for the same measurement.
    const listed = (await get(`/api/v1/measurements?domain=www.facebook.com&limit=1000`)).body.results.find((r: { measurement_id: string }) => r.measurement_id === id);
    for (const key of ['verdict', 'blocking_type', 'anomaly', 'confirmed', 'failure', 'fingerprint_id', 'source', 'received_time', 'report_id']) expect(body[key], key).toEqual(listed[key]);
    const chain = body.observations.tls_handshakes[0].peer_certificates;
    expect(chain[1]).toBe(derToPem(SHARED_INTERMEDIATE));
    const proof = body.proof;
    const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));
    expect(verifyMeasurementProof(bytes(proof.raw_measurement), bytes(proof.batch_header), bytes(proof.signature), bytes(proof.public_key))).toBe(true);
    // A flipped byte anywhere breaks it.
    const tampered = bytes(proof.raw_measurement);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(verifyMeasurementProof(tampered, bytes(proof.batch_header), bytes(proof.signature), bytes(proof.public_key))).toBe(false);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect((await get('/api/v1/measurements/00000000-0000-7000-8000-000000000000')).status).toBe(404);
    const bad = await get('/api/v1/measurements/not-an-id');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('"id"');
  });
});

describe('timeline, episodes, aggregation', () => {
  it('GET /api/v1/timeline draws hourly buckets with no data explicit', async () => {
    const { status, body } = await get('/api/v1/timeline?domain=www.facebook.com&probe_asn=9198&since=2020-12-06&until=2020-12-06T14:00:00Z&grain=1h&split=domain_asn');
    expect(status).toBe(200);
    expect(body.series).toHaveLength(1);
    expect(body.series[0].buckets.map((b: { state: string }) => b.state)).toEqual([
      'accessible', 'accessible', 'accessible', 'accessible', 'anomaly', 'anomaly', 'anomaly', 'anomaly',
      'accessible', 'accessible', 'accessible', 'accessible', 'no_data', 'no_data',
    ]);
    expect((await get('/api/v1/timeline?grain=2h')).body.error.message).toContain('"grain"');
  });

  it('GET /api/v1/episodes finds the episode with local times', async () => {
    const { body } = await get('/api/v1/episodes?since=2020-12-06&until=2020-12-06T12:00:00Z&grain=5m&time_zone=Asia/Almaty');
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({ kind: 'blocking', domain: 'www.facebook.com', probe_asn: 9198, onset: '2020-12-06T04:00:00.000Z', end: '2020-12-06T07:50:00.000Z', onset_local: '2020-12-06 10:00 (UTC+06:00)', end_local: '2020-12-06 13:50 (UTC+06:00)', probes: 3, blocking_types: ['sni_reset'] });
    const evidence = await get(body.results[0].evidence_url + '&limit=1000');
    expect(evidence.body.results.length).toBe(body.results[0].anomalies);
  });

  it('GET /api/v1/aggregation by day and ASN, in JSON and CSV', async () => {
    const json = await get('/api/v1/aggregation?axis_x=day&axis_y=asn&since=2020-12-06&until=2020-12-07');
    expect(json.body.dimension_count).toBe(2);
    expect(json.body.result).toEqual([
      { measurement_start_day: '2020-12-06', probe_asn: 9198, measurement_count: 216, anomaly_count: 68, confirmed_count: 0, ok_count: 148 },
      { measurement_start_day: '2020-12-06', probe_asn: 21299, measurement_count: 24, anomaly_count: 0, confirmed_count: 0, ok_count: 24 },
    ]);
    const csv = await get('/api/v1/aggregation?axis_x=domain&since=2020-12-06&until=2020-12-07&format=CSV');
    expect(csv.type).toContain('text/csv');
    expect(csv.text).toBe('domain,measurement_count,anomaly_count,confirmed_count,ok_count\r\nwww.facebook.com,216,68,0,148\r\nwww.youtube.com,24,0,0,24\r\n');
    const total = await get('/api/v1/aggregation?since=2020-12-06&until=2020-12-07&probe_cc=KZ');
    expect(total.body.result).toEqual({ measurement_count: 240, anomaly_count: 68, confirmed_count: 0, ok_count: 172 });
    expect((await get('/api/v1/aggregation?axis_x=week')).body.error.message).toContain('"axis_x"');
    expect((await get('/api/v1/aggregation?axis_x=day&axis_y=hour')).body.error.message).toContain('"axis_y"');
  });
});

describe('events', () => {
  it('lists the seeded summit and relates the overlapping episode', async () => {
    const list = await get('/api/v1/events');
    const summit = list.body.results.find((e: { name: string }) => e.name === 'Cyber Security Nur-Sultan 2020');
    expect(summit).toMatchObject({ time_zone: 'Asia/Almaty', start: '2020-12-05T18:00:00.000Z', origin: 'seed' });
    const one = await get(`/api/v1/events/${summit.id}`);
    expect(one.status).toBe(200);
    expect(one.body.episodes.map((e: { domain: string; probe_asn: number }) => [e.domain, e.probe_asn])).toEqual([['www.facebook.com', 9198]]);
    expect(one.body.episodes[0].onset_local).toBe('2020-12-06 10:00 (UTC+06:00)');
    expect((await get('/api/v1/events/999')).status).toBe(404);
    expect((await get('/api/v1/events/abc')).body.error.message).toContain('"id"');
  });

  it('adds an event only with the admin token', async () => {
    const event = { name: 'Test block', start: '2020-12-06T04:00:00Z', end: '2020-12-06T08:00:00Z', time_zone: 'Asia/Almaty', description: 'seeded', source_url: null };
    const post = (headers: Record<string, string>, body: unknown = event): Promise<Response> => fetch(`${base}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const bad = await post({ authorization: `Bearer ${TOKEN}` }, { ...event, time_zone: 'Nowhere/City' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('"time_zone"');
    const ok = await post({ authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(201);
    const created = (await ok.json()) as { id: number; origin: string };
    expect(created.origin).toBe('admin');
    const del = await fetch(`${base}/api/v1/events/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(del.status).toBe(204);
  });
});

describe('probes, health, metrics', () => {
  it('GET /api/v1/probes counts per network only', async () => {
    const { body, text } = await get('/api/v1/probes');
    expect(body.results).toEqual([
      { probe_asn: 9198, probe_cc: 'KZ', probe_network_name: 'JSC Kazakhtelecom', probes: 3, active_probes: 3 },
      { probe_asn: 21299, probe_cc: 'KZ', probe_network_name: 'Kar-Tel LLC', probes: 1, active_probes: 1 },
    ]);
    expect(text).not.toMatch(/"p[0-9a-f]{32}"/); // no probe ids
  });

  it('GET /healthz and GET /metrics', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', schema_version: MIGRATIONS.length });
    const metrics = await get('/metrics');
    expect(metrics.type).toContain('text/plain');
    expect(metrics.text).toMatch(/steppe_api_requests_total\{route="GET \/api\/v1\/measurements",status="200"\} \d+/);
  });
});
});
