import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ManualClock } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { BandwidthBudget, BUDGET_FILE_NAME, monthOf, nextMonthStartMs, readBudgetUsage } from '../../src/budget/bandwidth-budget.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'steppe-budget-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MB = 1_000_000;

describe('BandwidthBudget', () => {
  it('counts bytes, reports what is left, and is exhausted at the limit', () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 6, 9, 0));
    const budget = BandwidthBudget.open(tempDir(), { limitBytes: 10 * MB, clock });
    budget.add(4 * MB);
    expect(budget.usage()).toMatchObject({ month: '2020-12', usedBytes: 4 * MB, limitBytes: 10 * MB, remainingBytes: 6 * MB, exhausted: false });
    budget.add(6 * MB);
    expect(budget.exhausted()).toBe(true);
    expect(budget.usage().remainingBytes).toBe(0);
    budget.add(1 * MB); // the core list keeps running and keeps being counted
    expect(budget.usage().usedBytes).toBe(11 * MB);
  });

  it('persists across restarts (flush at the end of a run)', () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2020, 11, 6, 9, 0));
    const a = BandwidthBudget.open(dir, { limitBytes: 10 * MB, clock });
    a.add(3 * MB);
    clock.advance(1000);
    a.add(2 * MB);
    a.flush();
    const b = BandwidthBudget.open(dir, { limitBytes: 10 * MB, clock });
    expect(b.usage().usedBytes).toBe(5 * MB);
    expect(JSON.parse(readFileSync(join(dir, BUDGET_FILE_NAME), 'utf8'))).toMatchObject({ month: '2020-12', usedBytes: 5 * MB });
    expect(readBudgetUsage(dir, 10 * MB, clock).usedBytes).toBe(5 * MB);
  });

  it('starts again at zero across a month boundary (fake clock), also after a restart', () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2020, 11, 31, 23, 59, 0));
    const budget = BandwidthBudget.open(dir, { limitBytes: 10 * MB, clock });
    budget.add(12 * MB);
    budget.flush();
    expect(budget.exhausted()).toBe(true);
    expect(budget.usage().resetsAtMs).toBe(Date.UTC(2021, 0, 1));
    clock.advance(60_000); // 2021-01-01T00:00:00Z
    expect(budget.usage()).toMatchObject({ month: '2021-01', usedBytes: 0, exhausted: false });
    budget.add(1 * MB);
    expect(budget.usage().usedBytes).toBe(1 * MB);
    // A process started in January over December's file also starts at zero.
    clock.set(Date.UTC(2020, 11, 31, 23, 59, 30));
    const stale = BandwidthBudget.open(tempDir(), { limitBytes: 10 * MB, clock });
    stale.add(20 * MB);
    stale.flush();
    clock.set(Date.UTC(2021, 0, 15));
    const reopened = BandwidthBudget.open(dir, { limitBytes: 10 * MB, clock });
    expect(reopened.usage().month).toBe('2021-01');
  });

  it('a clock stepped back does not reopen a spent month', () => {
    const clock = new ManualClock(Date.UTC(2021, 1, 1, 0, 0, 5));
    const budget = BandwidthBudget.open(tempDir(), { limitBytes: MB, clock });
    budget.add(2 * MB);
    clock.set(Date.UTC(2021, 0, 31, 23, 59));
    expect(budget.usage()).toMatchObject({ month: '2021-02', exhausted: true });
  });

  it('no limit: counts but never exhausts', () => {
    const budget = BandwidthBudget.open(tempDir(), { limitBytes: null, clock: new ManualClock(Date.UTC(2021, 0, 1)) });
    budget.add(10 ** 12);
    expect(budget.usage()).toMatchObject({ exhausted: false, remainingBytes: null, limitBytes: null });
  });

  it('a damaged state file is an error naming it, never a silent reset', () => {
    const dir = tempDir();
    writeFileSync(join(dir, BUDGET_FILE_NAME), '{"month": "2020-12", "usedBytes": -5, "updatedAtMs": 0}');
    expect(() => BandwidthBudget.open(dir, { limitBytes: MB })).toThrow(ConfigError);
    expect(() => BandwidthBudget.open(dir, { limitBytes: MB })).toThrow(/budget\.json: field "usedBytes"/);
    writeFileSync(join(dir, BUDGET_FILE_NAME), 'not json');
    expect(() => BandwidthBudget.open(dir, { limitBytes: MB })).toThrow(/unreadable budget state/);
  });

  it('month helpers use UTC', () => {
    expect(monthOf(Date.UTC(2020, 11, 31, 23, 59, 59))).toBe('2020-12');
    expect(nextMonthStartMs(Date.UTC(2020, 11, 6))).toBe(Date.UTC(2021, 0, 1));
  });
});
