import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasErrorCode, sha256, verifyMeasurementProof, wire } from '@steppe/shared';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
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
  it('creates the schema at the latest version and records it', () => {
    const path = dbPath();
    const store = openSqliteStore(path);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(store.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    expect(store.healthy()).toBe(true);
    store.close();
    expect(store.healthy()).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('reopens without re-applying migrations and keeps data', () => {
    const path = dbPath();
    const probe = newProbe();
    let store = openSqliteStore(path);
    store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    store.close();
    store = openSqliteStore(path);
    expect(hex(store.probeKey(probe.probeId) ?? new Uint8Array())).toBe(hex(probe.keys.publicKey));
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it('refuses a database newer than the code, without touching it', () => {
    const path = dbPath();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/schema version 99 is newer/);
    const again = new Database(path, { readonly: true });
    expect(again.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'measurements'").get()).toEqual({ n: 0 });
    again.close();
  });

  it('upgrades a version-1 database: the daily rollups are backfilled from the hourly ones', () => {
    const path = dbPath();
    const probe = newProbe();
    let store = openSqliteStore(path);
    store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    const ms = [0, 1, 2, 30].map((h) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + h * 3_600_000, verdict: h === 1 ? 'tls' : 'accessible' }));
    store.commitBatches([signedBatch(probe, 1, ms, T0 + 31 * 3_600_000, KAZAKHTELECOM)]);
    const daily = (): unknown => store.rollups({ since: Date.UTC(2020, 11, 6), until: Date.UTC(2020, 11, 8), grain: '1d', groupBy: ['verdict'] });
    const expected = daily();
    store.close();
    // Back to version 1, as a database made before migration 2 would be.
    const db = new Database(path);
    db.exec(`DROP TABLE rollup_1d; DROP INDEX probe_activity_outage;
      ALTER TABLE probe_activity DROP COLUMN reached_n; ALTER TABLE probe_activity DROP COLUMN check_n; ALTER TABLE probe_activity DROP COLUMN check_failed_n;
      DELETE FROM schema_version WHERE version >= 2;`);
    db.pragma('user_version = 1');
    db.close();
    store = openSqliteStore(path);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(daily()).toEqual(expected);
    expect(expected).toEqual([
      { bucketMs: Date.UTC(2020, 11, 6), verdict: 'accessible', count: 2, anomalyCount: 0, confirmedCount: 0 },
      { bucketMs: Date.UTC(2020, 11, 6), verdict: 'tls', count: 1, anomalyCount: 1, confirmedCount: 0 },
      { bucketMs: Date.UTC(2020, 11, 7), verdict: 'accessible', count: 1, anomalyCount: 0, confirmedCount: 0 },
    ]);
    store.close();
  });

  it('names a bad option', () => {
    expect(() => openSqliteStore(':memory:', { lateAfterMs: 5 })).toThrow(/lateAfterMs/);
  });
});

describe('SqliteStore: probes', () => {
  it('registers on first use, knows the same key, refuses another', () => {
    const store = openSqliteStore(':memory:');
    const probe = newProbe();
    const other = newProbe();
    expect(store.probeKey(probe.probeId)).toBeUndefined();
    expect(store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM)).toBe('registered');
    expect(store.registerProbe(probe.probeId, probe.keys.publicKey, T0 + 1, KAZAKHTELECOM)).toBe('known');
    expect(store.registerProbe(probe.probeId, other.keys.publicKey, T0 + 2, KAZAKHTELECOM)).toBe('conflict');
    expect(hex(store.probeKey(probe.probeId) ?? new Uint8Array())).toBe(hex(probe.keys.publicKey));
    store.close();
  });

  it('counts probes per ASN and country from their last connection only', () => {
    const store = openSqliteStore(':memory:');
    const [a, b, c] = [newProbe(), newProbe(), newProbe()];
    store.registerProbe(a.probeId, a.keys.publicKey, T0, KAZAKHTELECOM);
    store.registerProbe(b.probeId, b.keys.publicKey, T0, KAZAKHTELECOM);
    store.registerProbe(c.probeId, c.keys.publicKey, T0, KAZAKHTELECOM);
    store.touchProbe(c.probeId, T0 + 3_600_000, BEELINE); // moved networks
    const counts = store.probeCounts(T0 + 60_000);
    expect(counts).toEqual([
      { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom', probes: 2, activeProbes: 0 },
      { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC', probes: 1, activeProbes: 1 },
    ]);
    store.close();
  });
});

describe('SqliteStore.commitBatches', () => {
  function setup(): { store: ReturnType<typeof openSqliteStore>; probe: ReturnType<typeof newProbe>; path: string } {
    const path = dbPath();
    const store = openSqliteStore(path);
    const probe = newProbe();
    store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    return { store, probe, path };
  }

  it('stores new measurements and reports resends as duplicates, never storing twice', () => {
    const { store, probe } = setup();
    const ms = [0, 1, 2].map((i) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + i * 1000 }));
    const batch = signedBatch(probe, 1, ms, T0 + 5000, KAZAKHTELECOM);
    const [first] = store.commitBatches([batch]);
    expect(first?.stored.map(hex)).toEqual(ms.map((m) => hex(m.id)));
    expect(first?.duplicates).toEqual([]);
    const [again] = store.commitBatches([batch]);
    expect(again?.stored).toEqual([]);
    expect(again?.duplicates.map(hex)).toEqual(ms.map((m) => hex(m.id)));
    expect(store.countMeasurements({})).toBe(3);
    store.close();
  });

  it('commits several batches in one transaction with per-batch results, duplicates across them included', () => {
    const { store, probe } = setup();
    const a = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    const b = incomingMeasurement({ probeId: probe.probeId, startMs: T0 + 1 });
    const c = incomingMeasurement({ probeId: probe.probeId, startMs: T0 + 2 });
    store.commitBatches([signedBatch(probe, 1, [a], T0 + 10, KAZAKHTELECOM)]);
    const results = store.commitBatches([
      signedBatch(probe, 2, [a, b], T0 + 20, KAZAKHTELECOM),
      signedBatch(probe, 3, [b, c], T0 + 20, KAZAKHTELECOM),
    ]);
    expect(results.map((r) => ({ stored: r.stored.map(hex), duplicates: r.duplicates.map(hex) }))).toEqual([
      { stored: [hex(b.id)], duplicates: [hex(a.id)] },
      { stored: [hex(c.id)], duplicates: [hex(b.id)] },
    ]);
    expect(store.countMeasurements({})).toBe(3);
    store.close();
  });

  it('writes no batch row for a resend made only of duplicates', () => {
    const { store, probe, path } = setup();
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    store.commitBatches([signedBatch(probe, 1, [m], T0, KAZAKHTELECOM)]);
    store.commitBatches([signedBatch(probe, 2, [m], T0, KAZAKHTELECOM)]);
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT sequence FROM batches').all()).toEqual([{ sequence: 1 }]);
    db.close();
  });

  it('is all or nothing: an unregistered probe in the set fails the whole commit', () => {
    const { store, probe } = setup();
    const stranger = newProbe();
    const good = signedBatch(probe, 1, [incomingMeasurement({ probeId: probe.probeId, startMs: T0 })], T0, KAZAKHTELECOM);
    const bad = signedBatch(stranger, 1, [incomingMeasurement({ probeId: stranger.probeId, startMs: T0 })], T0, KAZAKHTELECOM);
    let thrown: unknown;
    try {
      store.commitBatches([good, bad]);
    } catch (err) {
      thrown = err;
    }
    expect(hasErrorCode(thrown, 'STEPPE_ERR_STORAGE')).toBe(true);
    expect(store.countMeasurements({})).toBe(0);
    expect(store.rollups({ since: T0 - 3_600_000, until: T0 + 3_600_000, grain: '1h', groupBy: [] })).toEqual([]);
    // The good batch commits on its own afterwards (blob bookkeeping was rolled back too).
    expect(store.commitBatches([good])[0]?.stored).toHaveLength(1);
    expect(hex(store.getMeasurement(good.measurements[0]?.id ?? new Uint8Array())?.raw ?? new Uint8Array())).toBe(hex(good.measurements[0]?.raw ?? new Uint8Array(1)));
    store.close();
  });

  it('keeps the exact signed bytes, the proof, and the collector-derived network', () => {
    const { store, probe } = setup();
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0, verdict: 'tls', failure: 'connection_reset', claimedAsn: 64_512 });
    store.commitBatches([signedBatch(probe, 7, [m], T0 + 900, BEELINE)]);
    const got = store.getMeasurement(m.id);
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
    expect(store.getMeasurement(new Uint8Array(16))).toBeUndefined();
    store.close();
  });

  it('stores each distinct certificate and body prefix once', () => {
    const { store, probe, path } = setup();
    const leaf = Buffer.alloc(700, 7);
    const ms = Array.from({ length: 20 }, (_, i) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + i, leafCert: leaf }));
    store.commitBatches([signedBatch(probe, 1, ms.slice(0, 10), T0, KAZAKHTELECOM)]);
    store.commitBatches([signedBatch(probe, 2, ms.slice(10), T0, KAZAKHTELECOM)]);
    for (const m of ms) expect(Buffer.from(store.getMeasurement(m.id)?.raw ?? []).equals(Buffer.from(m.raw))).toBe(true);
    store.close();
    const db = new Database(path, { readonly: true });
    const blobs = db.prepare('SELECT sha256 FROM blobs').all() as { sha256: Buffer }[];
    // leaf + shared intermediate + blockpage prefix
    expect(blobs.map((b) => b.sha256.toString('hex')).sort()).toEqual([hex(sha256(leaf)), hex(sha256(SHARED_INTERMEDIATE)), hex(sha256(ms[0]?.decoded.observations?.httpRequests?.[0]?.bodyPrefix ?? new Uint8Array()))].sort());
    const rawBytes = db.prepare('SELECT SUM(LENGTH(raw)) AS n FROM measurement_raw').get() as { n: number };
    const original = ms.reduce((sum, m) => sum + m.raw.length, 0);
    expect(rawBytes.n).toBeLessThan(original / 3);
    db.close();
  });

  it('survives reopening: committed rows are on disk', () => {
    const { store, probe, path } = setup();
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    store.commitBatches([signedBatch(probe, 1, [m], T0, KAZAKHTELECOM)]);
    store.close();
    const again = openSqliteStore(path);
    expect(hex(again.getMeasurement(m.id)?.raw ?? new Uint8Array())).toBe(hex(m.raw));
    again.close();
  });
});
