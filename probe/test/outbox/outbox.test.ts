import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, newId } from '@steppe/shared';
import { Outbox, type OutboxDropEvent } from '../../src/outbox/index.js';

const root = mkdtempSync(join(tmpdir(), 'steppe-outbox-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const path = (): string => join(root, `outbox-${(n += 1)}.sqlite`);
const DAY = 86_400_000;

function item(startMs: number, size = 100): { id: Uint8Array; startTimeMs: number; bytes: Uint8Array } {
  return { id: newId(startMs), startTimeMs: startMs, bytes: new Uint8Array(size).fill(7) };
}

describe('Outbox', () => {
  it('keeps rows across reopen and deletes only acked ids', () => {
    const p = path();
    const clock = new ManualClock(Date.UTC(2020, 11, 6));
    const a = Outbox.open(p, { clock });
    const items = [item(clock.now() - 3000), item(clock.now() - 2000), item(clock.now() - 1000)];
    expect(a.enqueueMany(items)).toBe(3);
    expect(a.enqueue(items[0]?.bytes ?? new Uint8Array(), { id: items[0]?.id ?? new Uint8Array(), startTimeMs: 1 })).toBe(false);
    a.close();
    const b = Outbox.open(p, { clock });
    expect(b.stats().count).toBe(3);
    expect(b.ack([items[1]?.id ?? new Uint8Array(), newId(5)])).toBe(1);
    const s = b.stats();
    expect(s.count).toBe(2);
    expect(s.lastUploadMs).toBe(clock.now());
    b.close();
  });

  it('offers rows in measurement-time order, skipping those in flight, within count and byte limits', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const o = Outbox.open(path(), { clock });
    const late = item(clock.now() - 1000);
    const early = item(clock.now() - 5000);
    const middle = item(clock.now() - 3000, 5000);
    o.enqueueMany([late, early, middle]);
    const hex = (i: { id: Uint8Array }): string => Buffer.from(i.id).toString('hex');
    expect(o.next(10, 1e9).map(hex)).toEqual([early, middle, late].map(hex));
    expect(o.next(2, 1e9).map(hex)).toEqual([early, middle].map(hex));
    expect(o.next(10, 1000).map(hex)).toEqual([early].map(hex));
    expect(o.next(10, 1e9, (id) => id === hex(early)).map(hex)).toEqual([middle, late].map(hex));
    // A single row larger than the byte budget is still offered alone.
    expect(o.next(10, 10, (id) => id === hex(early)).map(hex)).toEqual([middle].map(hex));
    o.close();
  });

  it('drops the oldest beyond the size cap, counts it, persists the count and says so', () => {
    const p = path();
    const clock = new ManualClock(1_700_000_000_000);
    const o = Outbox.open(p, { clock, maxBytes: 2048 });
    const events: OutboxDropEvent[] = [];
    o.on('dropped', (e) => events.push(e));
    const items = Array.from({ length: 30 }, (_, i) => item(clock.now() - 100_000 + i * 10, 100));
    o.enqueueMany(items);
    const s = o.stats();
    expect(s.bytes).toBeLessThanOrEqual(2048);
    expect(s.count).toBe(20);
    expect(s.dropped).toBe(10);
    expect(events).toEqual([{ count: 10, bytes: 1000, reason: 'max_bytes', newestDroppedStartTimeMs: items[9]?.startTimeMs }]);
    // The oldest went: the first offered now is item 10.
    expect(Buffer.from(o.next(1, 1e9)[0]?.id ?? []).equals(Buffer.from(items[10]?.id ?? []))).toBe(true);
    o.close();
    expect(Outbox.open(p, { clock }).stats().dropped).toBe(10);
  });

  it('drops measurements queued longer than the age cap (weeks offline) and counts them', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const o = Outbox.open(path(), { clock, maxAgeMs: 30 * DAY });
    const events: OutboxDropEvent[] = [];
    o.on('dropped', (e) => events.push(e));
    // A replayed old day is not "old": age counts from queueing.
    const old = item(Date.UTC(2020, 11, 6));
    o.enqueue(old.bytes, old);
    clock.advance(20 * DAY);
    o.enqueueMany([item(clock.now() - 1000)]);
    expect(o.stats().count).toBe(2);
    clock.advance(15 * DAY);
    expect(o.prune()).toBe(1);
    expect(o.stats()).toMatchObject({ count: 1, dropped: 1 });
    expect(events[0]?.reason).toBe('max_age');
    o.close();
  });

  it('sets aside (quarantines) a row: kept on disk, no longer offered', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const o = Outbox.open(path(), { clock });
    const a = item(clock.now() - 2000);
    const b = item(clock.now() - 1000);
    o.enqueueMany([a, b]);
    expect(o.quarantine(a.id, 'STEPPE_ERR_MEASUREMENT_INVALID')).toBe(true);
    expect(o.next(10, 1e9)).toHaveLength(1);
    expect(o.stats()).toMatchObject({ count: 2, quarantined: 1 });
    o.close();
  });

  it('hands out strictly increasing sequence numbers across reopen', () => {
    const p = path();
    const a = Outbox.open(p);
    const s1 = a.nextSequence();
    const s2 = a.nextSequence();
    a.close();
    const b = Outbox.open(p);
    const s3 = b.nextSequence();
    b.close();
    expect(s1 < s2 && s2 < s3).toBe(true);
  });

  it('validates input and options', () => {
    const o = Outbox.open(path());
    expect(() => o.enqueue(new Uint8Array(), { id: newId(), startTimeMs: 1 })).toThrow(/bytes/);
    expect(() => o.enqueue(new Uint8Array(3), { id: new Uint8Array(3), startTimeMs: 1 })).toThrow(/16 bytes/);
    expect(() => o.enqueue(new Uint8Array(3), { id: newId(), startTimeMs: -5 })).toThrow(/startTimeMs/);
    o.close();
    expect(() => o.stats()).toThrow(/closed/);
    expect(() => Outbox.open(path(), { maxBytes: 5 })).toThrow(/maxBytes/);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => Outbox.open(join(file, 'sub', 'outbox.sqlite'))).toThrow(/cannot open outbox/);
  });
});
