import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasErrorCode, sha256, verifyMeasurementProof, wire } from '@steppe/shared';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { describeEngines } from './engines.js';
import { BEELINE, KAZAKHTELECOM, SHARED_INTERMEDIATE, incomingMeasurement, newProbe, signedBatch } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'steppe-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2020, 11, 6, 4, 0);
let fileCounter = 0;
const dbPath = (): string => join(dir, `store-${(fileCounter += 1)}.db`);

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('openSqliteStore: schema and durability', () => {
  it('creates the schema at the latest version and records it', async () => {
    const path = dbPath();
    const store = await openSqliteStore(path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    // The writer thread's connection: the one whose commits ingest acks.
    expect(store.writer.kind).toBe('thread');
    expect(await store.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    expect(await store.healthy()).toBe(true);
    await store.close();
    expect(await store.healthy()).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('reopens without re-applying migrations and keeps data', async () => {
    const path = dbPath();
    const probe = newProbe();
    let store = await openSqliteStore(path);
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    await store.close();
    store = await openSqliteStore(path);
    expect(hex((await store.probeKey(probe.probeId)) ?? new Uint8Array())).toBe(hex(probe.keys.publicKey));
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it('refuses a database newer than the code, without touching it', async () => {
    const path = dbPath();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    await expect(openSqliteStore(path)).rejects.toThrow(/schema version 99 is newer/);
    const again = new Database(path, { readonly: true });
    expect(again.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'measurements'").get()).toEqual({ n: 0 });
    again.close();
  });

  it('upgrades a version-1 database: the daily rollups are backfilled from the hourly ones', async () => {
    const path = dbPath();
    const probe = newProbe();
    let store = await openSqliteStore(path);
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    const ms = [0, 1, 2, 30].map((h) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + h * 3_600_000, verdict: h === 1 ? 'tls' : 'accessible' }));
    await store.commitBatches([signedBatch(probe, 1, ms, T0 + 31 * 3_600_000, KAZAKHTELECOM)]);
    const daily = (): Promise<unknown> => store.rollups({ since: Date.UTC(2020, 11, 6), until: Date.UTC(2020, 11, 8), grain: '1d', groupBy: ['verdict'] });
    const expected = await daily();
    await store.close();
    // Back to version 1, as a database made before migration 2 would be.
    const db = new Database(path);
    db.exec(`DROP TABLE rollup_1d; DROP INDEX probe_activity_outage;
      ALTER TABLE probe_activity DROP COLUMN reached_n; ALTER TABLE probe_activity DROP COLUMN check_n; ALTER TABLE probe_activity DROP COLUMN check_failed_n;
      DELETE FROM schema_version WHERE version >= 2;`);
    db.pragma('user_version = 1');
    db.close();
    store = await openSqliteStore(path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(await daily()).toEqual(expected);
    expect(expected).toEqual([
      { bucketMs: Date.UTC(2020, 11, 6), verdict: 'accessible', count: 2, anomalyCount: 0, confirmedCount: 0 },
      { bucketMs: Date.UTC(2020, 11, 6), verdict: 'tls', count: 1, anomalyCount: 1, confirmedCount: 0 },
      { bucketMs: Date.UTC(2020, 11, 7), verdict: 'accessible', count: 1, anomalyCount: 0, confirmedCount: 0 },
    ]);
    await store.close();
  });

  it('names a bad option', async () => {
    await expect(openSqliteStore(':memory:', { lateAfterMs: 5 })).rejects.toThrow(/lateAfterMs/);
  });

  it('writes on the caller\'s thread only for \':memory:\'', async () => {
    const store = await openSqliteStore(':memory:');
    expect(store.writer.kind).toBe('inline');
    await store.close();
  });
});

describeEngines('store-conformance', (engine) => {
  /** A store with one registered probe. */
  async function setup(): Promise<{ store: Store; probe: ReturnType<typeof newProbe> }> {
    const store = await engine.open();
    const probe = newProbe();
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    return { store, probe };
  }

  describe('probes', () => {
    it('registers on first use, knows the same key, refuses another', async () => {
      const store = await engine.open();
      const probe = newProbe();
      const other = newProbe();
      expect(await store.probeKey(probe.probeId)).toBeUndefined();
      expect(await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM)).toBe('registered');
      expect(await store.registerProbe(probe.probeId, probe.keys.publicKey, T0 + 1, KAZAKHTELECOM)).toBe('known');
      expect(await store.registerProbe(probe.probeId, other.keys.publicKey, T0 + 2, KAZAKHTELECOM)).toBe('conflict');
      expect(hex((await store.probeKey(probe.probeId)) ?? new Uint8Array())).toBe(hex(probe.keys.publicKey));
    });

    it('counts probes per ASN and country from their last connection only', async () => {
      const store = await engine.open();
      const [a, b, c] = [newProbe(), newProbe(), newProbe()];
      await store.registerProbe(a.probeId, a.keys.publicKey, T0, KAZAKHTELECOM);
      await store.registerProbe(b.probeId, b.keys.publicKey, T0, KAZAKHTELECOM);
      await store.registerProbe(c.probeId, c.keys.publicKey, T0, KAZAKHTELECOM);
      await store.touchProbe(c.probeId, T0 + 3_600_000, BEELINE); // moved networks
      expect(await store.probeCounts(T0 + 60_000)).toEqual([
        { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom', probes: 2, activeProbes: 0 },
        { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC', probes: 1, activeProbes: 1 },
      ]);
    });
  });

  describe('commitBatches', () => {
    it('stores new measurements and reports resends as duplicates, never storing twice', async () => {
      const { store, probe } = await setup();
      const ms = [0, 1, 2].map((i) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + i * 1000 }));
      const batch = signedBatch(probe, 1, ms, T0 + 5000, KAZAKHTELECOM);
      const [first] = await store.commitBatches([batch]);
      expect(first?.stored.map(hex)).toEqual(ms.map((m) => hex(m.id)));
      expect(first?.duplicates).toEqual([]);
      const [again] = await store.commitBatches([batch]);
      expect(again?.stored).toEqual([]);
      expect(again?.duplicates.map(hex)).toEqual(ms.map((m) => hex(m.id)));
      expect(await store.countMeasurements({})).toBe(3);
    });

    it('commits several batches in one transaction with per-batch results, duplicates across them included', async () => {
      const { store, probe } = await setup();
      const a = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
      const b = incomingMeasurement({ probeId: probe.probeId, startMs: T0 + 1 });
      const c = incomingMeasurement({ probeId: probe.probeId, startMs: T0 + 2 });
      await store.commitBatches([signedBatch(probe, 1, [a], T0 + 10, KAZAKHTELECOM)]);
      const results = await store.commitBatches([
        signedBatch(probe, 2, [a, b], T0 + 20, KAZAKHTELECOM),
        signedBatch(probe, 3, [b, c], T0 + 20, KAZAKHTELECOM),
      ]);
      expect(results.map((r) => ({ stored: r.stored.map(hex), duplicates: r.duplicates.map(hex) }))).toEqual([
        { stored: [hex(b.id)], duplicates: [hex(a.id)] },
        { stored: [hex(c.id)], duplicates: [hex(b.id)] },
      ]);
      expect(await store.countMeasurements({})).toBe(3);
    });

    it('is all or nothing: an unregistered probe in the set fails the whole commit', async () => {
      const { store, probe } = await setup();
      const stranger = newProbe();
      const good = signedBatch(probe, 1, [incomingMeasurement({ probeId: probe.probeId, startMs: T0 })], T0, KAZAKHTELECOM);
      const bad = signedBatch(stranger, 1, [incomingMeasurement({ probeId: stranger.probeId, startMs: T0 })], T0, KAZAKHTELECOM);
      const thrown = await store.commitBatches([good, bad]).then(() => undefined, (err: unknown) => err);
      expect(hasErrorCode(thrown, 'STEPPE_ERR_STORAGE')).toBe(true);
      expect(await store.countMeasurements({})).toBe(0);
      expect(await store.rollups({ since: T0 - 3_600_000, until: T0 + 3_600_000, grain: '1h', groupBy: [] })).toEqual([]);
      // The good batch commits on its own afterwards (blob bookkeeping was rolled back too).
      expect((await store.commitBatches([good]))[0]?.stored).toHaveLength(1);
      expect(hex((await store.getMeasurement(good.measurements[0]?.id ?? new Uint8Array()))?.raw ?? new Uint8Array())).toBe(hex(good.measurements[0]?.raw ?? new Uint8Array(1)));
    });

    it('keeps the exact signed bytes, the proof, and the collector-derived network', async () => {
      const { store, probe } = await setup();
      const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0, verdict: 'tls', failure: 'connection_reset', claimedAsn: 64_512 });
      await store.commitBatches([signedBatch(probe, 7, [m], T0 + 900, BEELINE)]);
      const got = await store.getMeasurement(m.id);
      expect(got).toBeDefined();
      if (got === undefined) return;
      expect(Buffer.from(got.raw).equals(Buffer.from(m.raw))).toBe(true);
      expect(got.proof).not.toBeNull();
      if (got.proof === null) return;
      expect(got.proof.sequence).toBe(7);
      expect(verifyMeasurementProof(got.raw, got.proof.header, got.proof.signature, got.proof.publicKey)).toBe(true);
      const header = wire.BatchHeader.decode(got.proof.header);
      expect(header.measurementSha256.map(hex)).toContain(hex(sha256(got.raw)));
      expect({ asn: got.asn, cc: got.cc, networkName: got.networkName }).toEqual({ asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC' });
      expect(got).toMatchObject({ probeId: probe.probeId, domain: 'www.facebook.com', verdict: 'tls', blockingType: 'sni_reset', anomaly: true, failure: 'connection_reset', receivedMs: T0 + 900, startMs: T0, source: 'steppe', reportId: null, ooni: null });
      expect(await store.getMeasurement(new Uint8Array(16))).toBeUndefined();
    });

    it('keeps the bytes of a measurement that views a larger buffer (a WebSocket frame), and only them', async () => {
      const { store, probe } = await setup();
      const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
      const frame = Buffer.concat([Buffer.alloc(333, 0xee), Buffer.from(m.raw), Buffer.alloc(777, 0xdd)]);
      const view = { ...m, raw: frame.subarray(333, 333 + m.raw.length) };
      await store.commitBatches([signedBatch(probe, 1, [view], T0, KAZAKHTELECOM)]);
      expect(hex((await store.getMeasurement(m.id))?.raw ?? new Uint8Array())).toBe(hex(m.raw));
      // The caller's buffer is its own after the commit (nothing was transferred away from it).
      expect(frame.length).toBe(333 + m.raw.length + 777);
    });

    it('survives reopening: committed rows are on disk', async () => {
      const { store, probe } = await setup();
      const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
      await store.commitBatches([signedBatch(probe, 1, [m], T0, KAZAKHTELECOM)]);
      await store.close();
      const again = await openStore(engine.specOf(store));
      expect(hex((await again.getMeasurement(m.id))?.raw ?? new Uint8Array())).toBe(hex(m.raw));
      await again.close();
    });
  });
});

describe('SqliteStore: what only SQLite shows', () => {
  async function setup(): Promise<{ store: Store; probe: ReturnType<typeof newProbe>; path: string }> {
    const path = dbPath();
    const store = await openSqliteStore(path);
    const probe = newProbe();
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    return { store, probe, path };
  }

  it('writes no batch row for a resend made only of duplicates', async () => {
    const { store, probe, path } = await setup();
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    await store.commitBatches([signedBatch(probe, 1, [m], T0, KAZAKHTELECOM)]);
    await store.commitBatches([signedBatch(probe, 2, [m], T0, KAZAKHTELECOM)]);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT sequence FROM batches').all()).toEqual([{ sequence: 1 }]);
    db.close();
  });

  it('stores each distinct certificate and body prefix once', async () => {
    const { store, probe, path } = await setup();
    const leaf = Buffer.alloc(700, 7);
    const ms = Array.from({ length: 20 }, (_, i) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + i, leafCert: leaf }));
    await store.commitBatches([signedBatch(probe, 1, ms.slice(0, 10), T0, KAZAKHTELECOM)]);
    await store.commitBatches([signedBatch(probe, 2, ms.slice(10), T0, KAZAKHTELECOM)]);
    for (const m of ms) expect(Buffer.from((await store.getMeasurement(m.id))?.raw ?? []).equals(Buffer.from(m.raw))).toBe(true);
    await store.close();
    const db = new Database(path, { readonly: true });
    const blobs = db.prepare('SELECT sha256 FROM blobs').all() as { sha256: Buffer }[];
    // leaf + shared intermediate + blockpage prefix
    expect(blobs.map((b) => b.sha256.toString('hex')).sort()).toEqual([hex(sha256(leaf)), hex(sha256(SHARED_INTERMEDIATE)), hex(sha256(ms[0]?.decoded.observations?.httpRequests?.[0]?.bodyPrefix ?? new Uint8Array()))].sort());
    const rawBytes = db.prepare('SELECT SUM(LENGTH(raw)) AS n FROM measurement_raw').get() as { n: number };
    const original = ms.reduce((sum, m) => sum + m.raw.length, 0);
    expect(rawBytes.n).toBeLessThan(original / 3);
    db.close();
  });

});
