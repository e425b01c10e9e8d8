import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, encodeMeasurement, decodeMeasurement, idToString, newId } from '@steppe/shared';
import type { ImportedMeasurement, Store } from '../../src/store/store.js';
import { describeEngines } from './engines.js';
import { BEELINE, KAZAKHTELECOM, measurementProps } from './fixtures.js';
import { HOUR, MIN, addProbe, every, ingest } from '../timeline/seed.js';

const DAY = Date.UTC(2020, 11, 6);
const at = (h: number, m = 0): number => DAY + h * HOUR + m * MIN;

describeEngines('store-queries', (engine) => {
let store: Store;
let allIds: string[] = [];

beforeAll(async () => {
  store = await engine.open();
  const a = await addProbe(store, KAZAKHTELECOM, DAY);
  const b = await addProbe(store, BEELINE, DAY);
  allIds = [
    ...await ingest(store, a, every(MIN, at(0), at(5)).map((t) => ({ startMs: t, domain: 'www.facebook.com', verdict: t >= at(2) ? 'tls' : 'accessible', failure: t >= at(2) ? 'connection_reset' : '' }))),
    ...await ingest(store, b, every(MIN, at(0), at(5)).map((t) => ({ startMs: t, domain: 'www.youtube.com', categoryCode: 'MMED' }))),
  ].map(idToString);
});

describe('queryMeasurements / iterateMeasurements', () => {
  it('streams every match in pages, in start order, with exact bytes', async () => {
    const seen: string[] = [];
    let last = -Infinity;
    for await (const m of store.iterateMeasurements({}, { pageSize: 100 })) {
      expect(m.startMs).toBeGreaterThanOrEqual(last);
      last = m.startMs;
      const decoded = decodeMeasurement(m.raw);
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(idToString(decoded.value.id)).toBe(idToString(m.id));
      seen.push(idToString(m.id));
    }
    expect(seen.sort()).toEqual([...allIds].sort());
  });

  it('never holds the database between pages: ingest goes on mid-export', async () => {
    const probe = await addProbe(store, KAZAKHTELECOM, DAY);
    const it = store.iterateRecords({ domains: ['www.facebook.com'] }, { pageSize: 100 });
    let n = 0;
    for await (const r of it) {
      n += 1;
      if (n === 150) await ingest(store, probe, [{ startMs: at(23), domain: 'www.instagram.com' }]);
      expect(r.domain).toBe('www.facebook.com');
    }
    expect(n).toBe(300);
  });

  it('filters on every column it documents', async () => {
    const count = (f: Parameters<Store['countMeasurements']>[0]): Promise<number> => store.countMeasurements(f);
    expect(await count({ domains: ['www.facebook.com'], verdicts: ['tls'] })).toBe(180);
    expect(await count({ probeAsns: [21299], categoryCodes: ['MMED'] })).toBe(300);
    expect(await count({ failed: true })).toBe(180);
    expect(await count({ failures: ['connection_reset'], since: at(4), until: at(5) })).toBe(60);
    expect(await count({ anomaly: true, probeCcs: ['KZ'] })).toBe(180);
    expect(await count({ inputs: ['https://www.youtube.com/'], testNames: ['web_connectivity'] })).toBe(300);
    expect(await count({ sources: ['ooni'] })).toBe(0);
    expect(await count({ domains: [] })).toBe(0);
    expect(await count({ receivedBefore: at(0, 10) })).toBeGreaterThan(0);
  });

  it('pages back and forth with opaque cursors and refuses foreign ones', async () => {
    const first = await store.queryMeasurements({ domains: ['www.youtube.com'] }, { limit: 200, order: 'asc' });
    expect(first.results).toHaveLength(200);
    const second = await store.queryMeasurements({ domains: ['www.youtube.com'] }, { limit: 200, order: 'asc', cursor: first.nextCursor });
    expect(second.results).toHaveLength(100);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.results, ...second.results].map((r) => idToString(r.id))).size).toBe(300);
    await expect(store.queryMeasurements({}, { limit: 10, order: 'desc', cursor: first.nextCursor })).rejects.toThrow(InvalidArgumentError);
    await expect(store.queryMeasurements({}, { limit: 10, cursor: "'; DROP TABLE measurements; --" })).rejects.toThrow(InvalidArgumentError);
    await expect(store.queryMeasurements({}, { limit: 0 })).rejects.toThrow(/limit/);
  });
});

describe('importMeasurements and re-analysis', () => {
  function ooni(startMs: number, blocking: string | null): ImportedMeasurement {
    const props = measurementProps({ probeId: 'ooni', startMs, domain: 'www.instagram.com', verdict: 'dns', blockingType: 'dns_injection' });
    const raw = encodeMeasurement(props);
    const decoded = decodeMeasurement(raw);
    if (!decoded.ok) throw decoded.error;
    return { id: decoded.value.id, raw, decoded: decoded.value, source: 'ooni', pseudoProbeId: 'ooni:20201206T040000Z_webconnectivity_KZ_9198_n1_abc', reportId: '20201206T040000Z_webconnectivity_KZ_9198_n1_abc', receivedMs: at(12), network: KAZAKHTELECOM, ooni: { blocking, accessible: blocking === null ? null : false }, original: Buffer.from('{"test_keys":{}}') };
  }

  it('stores OONI measurements without proof, keeping OONI’s analysis beside Steppe’s, deduped by id', async () => {
    const items = [ooni(at(4), 'dns'), ooni(at(4, 1), null)];
    expect((await store.importMeasurements(items)).stored).toHaveLength(2);
    expect((await store.importMeasurements(items)).duplicates).toHaveLength(2);
    const got = await store.getMeasurement(items[0]?.id ?? new Uint8Array());
    expect(got).toMatchObject({ source: 'ooni', reportId: items[0]?.reportId, ooni: { blocking: 'dns', accessible: false }, verdict: 'dns', proof: null });
    expect(Buffer.from(got?.original ?? []).toString()).toBe('{"test_keys":{}}');
    expect((await store.getMeasurement(items[1]?.id ?? new Uint8Array()))?.ooni).toEqual({ blocking: null, accessible: null });
    expect(await store.countMeasurements({ sources: ['ooni'] })).toBe(2);
    // Imported pseudo-probes are not volunteers: they never show in probe counts.
    expect((await store.probeCounts(0)).reduce((s, c) => s + c.probes, 0)).toBe(3);
  });

  it('adds a verdict without touching observations, moving the rollups with it', async () => {
    const id = (await store.queryMeasurements({ domains: ['www.youtube.com'] }, { limit: 1, order: 'asc' })).results[0]?.id ?? new Uint8Array();
    const before = await store.getMeasurement(id);
    const rollup = async (): Promise<number> => (await store.rollups({ since: at(0), until: at(1), grain: '5m', groupBy: [], domains: ['www.youtube.com'], verdicts: ['blockpage'] })).reduce((s, r) => s + r.count, 0);
    expect(await rollup()).toBe(0);
    expect(await store.addVerdict(id, { verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true, failure: null, fingerprintId: 'ooni.kz_1', engineVersion: '0.2.0' }, at(20))).toBe(true);
    const after = await store.getMeasurement(id);
    expect(after).toMatchObject({ verdict: 'blockpage', anomaly: true, confirmed: true, fingerprintId: 'ooni.kz_1' });
    expect(after?.reanalyses).toEqual([{ analysedMs: at(20), engineVersion: '0.2.0', verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true, failure: null, fingerprintId: 'ooni.kz_1' }]);
    expect(Buffer.from(after?.raw ?? []).equals(Buffer.from(before?.raw ?? [1]))).toBe(true);
    expect(await rollup()).toBe(1);
    const total = (await store.rollups({ since: at(0), until: at(5), grain: 'total', groupBy: [], domains: ['www.youtube.com'] }))[0];
    expect(total).toMatchObject({ count: 300, anomalyCount: 1, confirmedCount: 1 });
    const buckets = await store.episodeInputs({ since: at(0), until: at(1), grain: '5m', domains: ['www.youtube.com'] });
    expect(buckets[0]?.anomalyProbes).toHaveLength(1);
    expect(await store.addVerdict(newId(), { verdict: 'dns', blockingType: '', anomaly: true, confirmed: false, failure: null, fingerprintId: null, engineVersion: 'x' }, 0)).toBe(false);
  });
});

describe('rollups', () => {
  it('groups by any dimension at every grain and agrees with the raw rows', async () => {
    for (const grain of ['5m', '1h', '1d', 'total'] as const) {
      const rows = await store.rollups({ since: DAY, until: DAY + 24 * HOUR, grain, groupBy: ['domain', 'verdict'], sources: ['steppe'] });
      const sum = (domain: string, verdict: string): number => rows.filter((r) => r.domain === domain && r.verdict === verdict).reduce((s, r) => s + r.count, 0);
      expect(sum('www.facebook.com', 'tls')).toBe(await store.countMeasurements({ domains: ['www.facebook.com'], verdicts: ['tls'], sources: ['steppe'] }));
      expect(sum('www.facebook.com', 'accessible')).toBe(await store.countMeasurements({ domains: ['www.facebook.com'], verdicts: ['accessible'], sources: ['steppe'] }));
    }
    await expect(store.rollups({ since: 1, until: 1, grain: '1h', groupBy: [] })).rejects.toThrow(/time range/);
  });
});
});
