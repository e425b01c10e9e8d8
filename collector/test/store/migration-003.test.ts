import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@steppe/shared';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { KAZAKHTELECOM, type MeasurementSpec, incomingMeasurement, newProbe, signedBatch } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'steppe-migration-003-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2020, 11, 6, 4, 0);
const MIN = 60_000;
const HOUR_MS = 3_600_000;

describe('migration 003: connectivity in probe activity', () => {
  it('zeroes the late counts of imports and backfills reached and check counts from the measurements', async () => {
    const path = join(dir, 'upgrade.db');
    let store = await openSqliteStore(path, { clock: new ManualClock(T0) });
    const probe = newProbe();
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    const spec = (s: Omit<MeasurementSpec, 'probeId'>): ReturnType<typeof incomingMeasurement> => incomingMeasurement({ ...s, probeId: probe.probeId });
    // A Steppe probe: on time, a round with a blocked site and a reachable one and a good check;
    // then a round held in its outbox where nothing answered, its check included.
    await store.commitBatches([signedBatch(probe, 1, [
      spec({ startMs: T0, domain: 'www.facebook.com', verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset' }),
      spec({ startMs: T0, domain: 'vlast.kz' }),
      spec({ startMs: T0, domain: 'collector.steppe.example', testName: 'connectivity' }),
    ], T0 + MIN, KAZAKHTELECOM)]);
    await store.commitBatches([signedBatch(probe, 2, [
      spec({ startMs: T0 + 15 * MIN, domain: 'vlast.kz', verdict: '', anomaly: false, failure: 'generic_timeout_error' }),
      spec({ startMs: T0 + 15 * MIN, domain: 'collector.steppe.example', testName: 'connectivity', verdict: '', anomaly: true, blockingType: '', failure: 'generic_timeout_error' }),
    ], T0 + 60 * MIN, KAZAKHTELECOM)]);
    // An OONI measurement imported years later.
    const imported = spec({ startMs: T0 + 30 * MIN, domain: 'ct.kz', verdict: '', anomaly: false, failure: 'generic_timeout_error' });
    await store.importMeasurements([{
      id: imported.id, raw: imported.raw, decoded: imported.decoded, source: 'ooni', pseudoProbeId: 'ooni:report-1', reportId: 'report-1',
      receivedMs: Date.UTC(2026, 0, 1), network: KAZAKHTELECOM, ooni: { blocking: null, accessible: null },
    }]);
    const range = { since: T0, until: T0 + 60 * MIN, grain: '5m' as const };
    const expected = await store.probeActivity(range);
    expect(expected.map((a) => [a.bucketMs - T0, a.count, a.lateCount, a.lateFailedCount, a.reachedCount, a.checkCount, a.checkFailedCount])).toEqual([
      [0, 3, 0, 0, 3, 1, 0],
      [15 * MIN, 2, 2, 2, 0, 1, 1],
      [30 * MIN, 1, 0, 0, 0, 0, 0],
    ]);
    await store.close();

    // Back to version 2, as its code left the table: no new columns, the import counted late.
    const db = new Database(path);
    db.exec(`DROP INDEX probe_activity_outage;
      ALTER TABLE probe_activity DROP COLUMN reached_n; ALTER TABLE probe_activity DROP COLUMN check_n; ALTER TABLE probe_activity DROP COLUMN check_failed_n;
      CREATE INDEX probe_activity_late ON probe_activity(bucket_ms, asn) WHERE late_failed_n > 0;
      UPDATE probe_activity SET late_n = n, late_failed_n = n WHERE source = 'ooni';
      DELETE FROM schema_version WHERE version = 3;`);
    db.pragma('user_version = 2');
    expect(db.prepare("SELECT late_failed_n FROM probe_activity WHERE source = 'ooni'").get()).toEqual({ late_failed_n: 1 });
    db.close();

    store = await openSqliteStore(path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(await store.probeActivity(range)).toEqual(expected);
    expect(await store.outageSpans({ since: T0, until: T0 + 60 * MIN })).toEqual([{ asn: 9198, firstBucketMs: T0 + 15 * MIN, lastBucketMs: T0 + 15 * MIN }]);
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'probe_activity' ORDER BY name").all()).toEqual([
      { name: 'probe_activity_by_bucket' },
      { name: 'probe_activity_outage' },
    ]);
    check.close();
  });

  it('moves the counters with a re-analysis', async () => {
    const store = await openSqliteStore(':memory:');
    const probe = newProbe();
    await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0, domain: 'vlast.kz', verdict: '', anomaly: false, failure: 'connection_reset' });
    await store.commitBatches([signedBatch(probe, 1, [m], T0 + 30 * MIN, KAZAKHTELECOM)]);
    const row = async (): Promise<unknown> => (await store.probeActivity({ since: T0, until: T0 + 5 * MIN, grain: '5m' }))[0];
    expect(await row()).toMatchObject({ count: 1, lateFailedCount: 1, reachedCount: 0 });
    // A newer engine, reading the control the probe attached, finds the site blocked: the probe was online after all.
    expect(await store.addVerdict(m.id, { verdict: 'tcp_ip', blockingType: 'tcp_reset', anomaly: true, confirmed: false, failure: 'connection_reset', fingerprintId: null, engineVersion: 'test' }, T0 + HOUR_MS)).toBe(true);
    expect(await row()).toMatchObject({ count: 1, lateFailedCount: 1, reachedCount: 1 });
    await store.close();
  });
});
