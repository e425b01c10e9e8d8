import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, generateSigningKeyPair, newId } from '@steppe/shared';
import { CSV_COLUMNS } from '../../src/export/csv.js';
import type { RecordSource } from '../../src/export/formats.js';
import { registerExportRoutes } from '../../src/export/routes.js';
import { verifySnapshot } from '../../src/export/verify-snapshot.js';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import type { MeasurementRecord } from '../../src/store/store.js';
import { SUMMIT_MS, seedSigned, tempStore } from './helpers.js';
import { describeEngines } from '../store/engines.js';
import { toArray } from '../store/fixtures.js';

describeEngines('export-routes', (engine) => {
let t: Awaited<ReturnType<typeof tempStore>>;
let rows = 0;
let listening: Listening;
let base = '';
const work = mkdtempSync(join(tmpdir(), 'steppe-routes-'));
const keys = generateSigningKeyPair();
const clock = new ManualClock(SUMMIT_MS + 86_400_000);

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

async function fetchRaw(method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const req = request(`${base}${path}`, { method, headers });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

beforeAll(async () => {
  t = await tempStore(() => engine.open());
  rows = await seedSigned(t.store, 8);
  const router = new Router();
  registerExportRoutes(router, { store: t.store, clock, collectorKey: keys, snapshotDir: join(work, 'snapshots') });
  listening = await listenRouter(router, '127.0.0.1', 0);
  base = listening.url;
});
afterAll(async () => {
  await listening.close();
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

describe('GET /api/v1/exports/*', () => {
  it('streams JSON Lines with the filters of /api/v1/measurements', async () => {
    const all = await fetchRaw('GET', '/api/v1/exports/measurements.jsonl');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(all.headers['transfer-encoding']).toBe('chunked');
    expect(all.headers['x-steppe-received-before']).toBe(new Date(clock.now()).toISOString());
    expect(all.body.toString('utf8').trimEnd().split('\n')).toHaveLength(rows);
    const some = await fetchRaw('GET', '/api/v1/exports/measurements.jsonl?probe_asn=AS21299&verdict=tls&domain=www.facebook.com');
    const lines = some.body.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect([l['probe_asn'], l['verdict'], l['domain']]).toEqual([21299, 'tls', 'www.facebook.com']);
  });

  it('gzips on request: as a .gz file with gzip=true, or as Content-Encoding with Accept-Encoding', async () => {
    const file = await fetchRaw('GET', '/api/v1/exports/measurements.csv?gzip=true');
    expect(file.headers['content-type']).toBe('application/gzip');
    expect(file.headers['content-disposition']).toBe('attachment; filename="measurements.csv.gz"');
    const csv = gunzipSync(file.body).toString('utf8').split('\r\n');
    expect(csv[0]).toBe(CSV_COLUMNS.map((c) => c.name).join(','));
    expect(csv.filter((l) => l !== '')).toHaveLength(rows + 1);
    const encoded = await fetchRaw('GET', '/api/v1/exports/measurements.ooni.jsonl', { 'accept-encoding': 'br, gzip;q=0.8' });
    expect(encoded.headers['content-encoding']).toBe('gzip');
    const ooni = gunzipSync(encoded.body).toString('utf8').trimEnd().split('\n');
    expect(ooni).toHaveLength(rows);
    expect(JSON.parse(ooni[0] ?? '{}')).toMatchObject({ probe_ip: '127.0.0.1', data_format_version: '0.2.0' });
    const refused = await fetchRaw('GET', '/api/v1/exports/measurements.csv', { 'accept-encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });

  it('answers 400 naming the parameter, before streaming anything', async () => {
    for (const [query, name] of [['since=yesterday', 'since'], ['probe_asn=x', 'probe_asn'], ['gzip=yes', 'gzip'], ['proofs=all', 'proofs'], ['verdcit=dns', 'verdcit']]) {
      const r = await fetchRaw('GET', `/api/v1/exports/measurements.jsonl?${query}`);
      expect(r.status, query).toBe(400);
      const body = JSON.parse(r.body.toString('utf8')) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('STEPPE_ERR_INVALID_ARGUMENT');
      expect(body.error.message).toContain(`parameter "${name}"`);
    }
  });

  it('answers HEAD with the headers only', async () => {
    const r = await fetchRaw('HEAD', '/api/v1/exports/measurements.jsonl');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
  });
});

describe('streaming with backpressure', () => {
  it('reads the store only as fast as the client reads', async () => {
    // A synthetic source of 60,000 records (~20 MB of CSV), counting what is pulled.
    const total = 60_000;
    let pulled = 0;
    const template = (await toArray(t.store.iterateRecords({}, { order: 'asc' })))[0];
    if (template === undefined) throw new Error('no record');
    const source: RecordSource = {
      iterateMeasurements: () => [],
      *iterateRecords(): Generator<MeasurementRecord> {
        for (let i = 0; i < total; i += 1) {
          pulled += 1;
          yield { ...template, id: newId(SUMMIT_MS + i), input: `https://www.facebook.com/${'x'.repeat(60)}/${i}` };
        }
      },
    };
    const router = new Router();
    registerExportRoutes(router, { store: source, clock, collectorKey: keys });
    const slow = await listenRouter(router, '127.0.0.1', 0);
    try {
      const req = request(`${slow.url}/api/v1/exports/measurements.csv`);
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.pause();
      // Wait until the server stops pulling (socket buffers full), without reading:
      // what it pulled is what the buffers hold (a few MB), not the whole export.
      let last = -1;
      for (let i = 0; i < 100 && pulled !== last; i += 1) {
        last = pulled;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(pulled).toBeLessThan(total / 2);
      let lines = 0;
      res.resume();
      for await (const chunk of res) {
        const buf = chunk as Buffer;
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines += 1;
      }
      expect(lines).toBe(total + 1);
      expect(pulled).toBe(total);
    } finally {
      void await slow.close();
    }
  });
});

describe('snapshots over HTTP', () => {
  it('publishes the collector key', async () => {
    const r = await fetchRaw('GET', '/api/v1/collector-key');
    expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ algorithm: 'ed25519', public_key: Buffer.from(keys.publicKey).toString('base64') });
  });

  it('creates a signed snapshot, serves its files, and a researcher verifies the download', async () => {
    const created = await fetchRaw('POST', '/api/v1/snapshots?probe_cc=KZ&verdict=tls');
    expect(created.status).toBe(201);
    const doc = JSON.parse(created.body.toString('utf8')) as { snapshot_id: string; row_count: number; manifest_url: string; signature_url: string; files: { name: string; url: string }[] };
    expect(created.headers['location']).toBe(`/api/v1/snapshots/${doc.snapshot_id}`);
    expect(doc.row_count).toBe(rows / 2);
    const download = join(work, 'download');
    mkdirSync(download);
    for (const url of [doc.manifest_url, doc.signature_url, ...doc.files.map((f) => f.url)]) {
      const r = await fetchRaw('GET', url);
      expect(r.status, url).toBe(200);
      writeFileSync(join(download, url.split('/').pop() ?? ''), r.body);
    }
    const key = JSON.parse((await fetchRaw('GET', '/api/v1/collector-key')).body.toString('utf8')) as { public_key: string };
    const verified = await verifySnapshot(download, { publicKey: new Uint8Array(Buffer.from(key.public_key, 'base64')), measurements: true });
    expect(verified).toMatchObject({ ok: true, problems: [] });
    expect(verified.measurements?.verified).toBe(rows / 2);

    // The same pinned query names the same snapshot: no second copy is written.
    const pinned = JSON.parse(created.body.toString('utf8')) as { query: { received_before: string } };
    const again = await fetchRaw('POST', `/api/v1/snapshots?probe_cc=KZ&verdict=tls&received_before=${pinned.query.received_before}`);
    expect(again.status).toBe(200);
    expect((JSON.parse(again.body.toString('utf8')) as { snapshot_id: string }).snapshot_id).toBe(doc.snapshot_id);

    const listing = JSON.parse((await fetchRaw('GET', '/api/v1/snapshots')).body.toString('utf8')) as { results: { snapshot_id: string }[] };
    expect(listing.results.map((s) => s.snapshot_id)).toContain(doc.snapshot_id);
  });

  it('serves only the files a snapshot lists', async () => {
    const created = JSON.parse((await fetchRaw('POST', '/api/v1/snapshots?domain=www.instagram.com')).body.toString('utf8')) as { snapshot_id: string };
    expect((await fetchRaw('GET', `/api/v1/snapshots/${created.snapshot_id}/collector.db`)).status).toBe(404);
    expect((await fetchRaw('GET', `/api/v1/snapshots/${created.snapshot_id}/..%2F..%2Fcollector.db`)).status).toBe(404);
    expect((await fetchRaw('GET', '/api/v1/snapshots/not-an-id/manifest.json')).status).toBe(400);
    expect((await fetchRaw('GET', '/api/v1/snapshots/20201206T000000Z-000000000000/manifest.json')).status).toBe(404);
  });
});
});
