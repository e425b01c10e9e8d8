import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, type Migration, type MigrationDatabase, SteppeError, applyMigrations, hasErrorCode, newId, schemaVersion } from '@steppe/shared';
import { Outbox } from '../../src/outbox/index.js';
import { OUTBOX_MIGRATIONS } from '../../src/outbox/outbox-migrations.js';

// The outbox's schema versions and file modes. The v0.1 outbox here is the
// one of the committed data-directory fixture, made by v0.1 itself.
const V01_OUTBOX = fileURLToPath(new URL('../fixtures/v0.1-data-dir/data/outbox.sqlite', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'steppe-outbox-schema-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const path = (): string => join(root, `outbox-${(n += 1)}.sqlite`);
const LATEST = OUTBOX_MIGRATIONS.length;

function mode(p: string): number {
  return statSync(p).mode & 0o777;
}

/** What the rows themselves say, counted the slow way. */
function recount(p: string): { count: number; bytes: number; quarantined: number } {
  const db = new Database(p, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes, COUNT(quarantined) AS quarantined FROM outbox').get() as { count: number; bytes: number; quarantined: number };
  } finally {
    db.close();
  }
}

function v01Copy(): string {
  const p = path();
  copyFileSync(V01_OUTBOX, p);
  chmodSync(p, 0o644); // as v0.1 left it
  return p;
}

describe('Outbox schema', () => {
  it('creates a new outbox at the latest version, private to the operator (0600, -wal and -shm too)', () => {
    const p = path();
    const o = Outbox.open(p);
    o.enqueue(new Uint8Array(10).fill(1), { id: newId(), startTimeMs: 1 });
    expect(mode(p)).toBe(0o600);
    expect(mode(`${p}-wal`)).toBe(0o600);
    expect(mode(`${p}-shm`)).toBe(0o600);
    o.close();
    const db = new Database(p, { readonly: true });
    expect(schemaVersion(db)).toBe(LATEST);
    expect(db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()).toEqual(OUTBOX_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('adopts a v0.1 outbox (no version): rows kept, running totals backfilled, mode repaired to 0600', () => {
    const p = v01Copy();
    const before = recount(p);
    expect(before).toEqual({ count: 6, bytes: 15852, quarantined: 0 });
    const o = Outbox.open(p);
    expect(mode(p)).toBe(0o600);
    expect(o.stats()).toMatchObject({ count: 6, bytes: 15852, quarantined: 0, dropped: 0, lastUploadMs: undefined });
    expect(o.next(100, 1e9)).toHaveLength(6);
    o.close();
    const db = new Database(p, { readonly: true });
    expect(schemaVersion(db)).toBe(LATEST);
    db.close();
    expect(recount(p)).toEqual(before);
  });

  it('keeps its running totals equal to the rows through enqueue, quarantine, ack and both caps', () => {
    const p = path();
    const clock = new ManualClock(1_700_000_000_000);
    const o = Outbox.open(p, { clock, maxBytes: 64 * 1024, maxAgeMs: 10 * 86_400_000 });
    const reasons = new Set<string>();
    o.on('dropped', (e) => reasons.add(e.reason));
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const queued: Uint8Array[] = [];
    for (let round = 0; round < 200; round += 1) {
      const r = random();
      if (r < 0.5) {
        const items = Array.from({ length: 1 + Math.floor(random() * 5) }, () => ({ id: newId(clock.now()), startTimeMs: clock.now(), bytes: new Uint8Array(100 + Math.floor(random() * 4000)) }));
        o.enqueueMany(items);
        queued.push(...items.map((i) => i.id));
      } else if (r < 0.65 && queued.length > 0) {
        o.quarantine(queued[Math.floor(random() * queued.length)] ?? new Uint8Array(16), 'test');
      } else if (r < 0.9 && queued.length > 0) {
        o.ack(queued.splice(0, 1 + Math.floor(random() * 3)));
      } else {
        clock.advance(Math.floor(random() * 3 * 86_400_000));
        o.prune();
      }
      const s = o.stats();
      expect({ count: s.count, bytes: s.bytes, quarantined: s.quarantined }).toEqual(recount(p));
    }
    expect([...reasons].sort()).toEqual(['max_age', 'max_bytes']);
    o.close();
  });

  it('refuses an outbox written by a newer probe, without touching it', () => {
    const p = path();
    const db = new Database(p);
    db.pragma('user_version = 99');
    db.close();
    let error: unknown;
    try {
      Outbox.open(p);
    } catch (err) {
      error = err;
    }
    expect(hasErrorCode(error, 'STEPPE_ERR_OUTBOX')).toBe(true);
    expect(String(error)).toMatch(/schema version 99 is newer than this probe knows \(\d+\); upgrade the probe/);
    const again = new Database(p, { readonly: true });
    expect(again.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'outbox'").get()).toEqual({ n: 0 });
    again.close();
  });
});

describe('applyMigrations (shared runner)', () => {
  const fail = (message: string): Error => new SteppeError('STEPPE_ERR_OUTBOX', message);

  it('skips a step another process applied after this one read the version (re-read inside the transaction)', () => {
    const p = v01Copy();
    const first = new Database(p);
    expect(applyMigrations(first, OUTBOX_MIGRATIONS, { nowMs: 1, software: 'probe', fail })).toEqual(OUTBOX_MIGRATIONS.map((m) => m.version));
    first.close();
    // The second process read user_version 0 before the first committed.
    const second = new Database(p);
    let stale = true;
    const lagging: MigrationDatabase = {
      exec: (sql) => second.exec(sql),
      prepare: (sql) => {
        if (sql === 'PRAGMA user_version' && stale) {
          stale = false;
          return { run: () => undefined, get: () => ({ user_version: 0 }) };
        }
        return second.prepare(sql);
      },
    };
    expect(applyMigrations(lagging, OUTBOX_MIGRATIONS, { nowMs: 2, software: 'probe', fail })).toEqual([]);
    expect(second.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: LATEST });
    second.close();
  });

  it('rolls a failing step back whole and leaves the database at the last good version', () => {
    const db = new Database(':memory:');
    const broken: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);' },
    ];
    expect(() => applyMigrations(db, broken, { nowMs: 1, software: 'probe', fail })).toThrow(/nowhere/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['a', 'schema_version']);
    db.close();
  });

  it("refuses a migration list with a gap, with the caller's error", () => {
    const db = new Database(':memory:');
    const gap: Migration[] = [{ version: 2, name: 'two', sql: '' }];
    expect(() => applyMigrations(db, gap, { nowMs: 1, software: 'probe', fail })).toThrow(/position 1 holds version 2/);
    db.close();
  });
});
