import { describe, expect, it } from 'vitest';
import { loadCategoryLegend } from '../../src/testlists/shipped.js';
import { CORE_TARGETS } from '../../src/testlists/core.js';
import { passesFilter, planRun } from '../../src/testlists/select.js';
import { TestListStore } from '../../src/testlists/store.js';

const catalog = new TestListStore('/nonexistent-steppe-dir').load();
const none = { categories: [], excludeCategories: [] };
const legend = loadCategoryLegend();

describe('planRun', () => {
  it('a core run measures the core list only', () => {
    const plan = planRun({ kind: 'core', catalog, fullLists: ['kz', 'global'], filter: none, budgetExhausted: false });
    expect(plan.lists).toEqual(['core']);
    expect(plan.targets.map((t) => t.url)).toEqual(CORE_TARGETS.map((t) => t.url));
    expect(plan.targets.every((t) => t.testList === 'core')).toBe(true);
  });

  it('a full run measures core first, then kz and global, each URL once', () => {
    const plan = planRun({ kind: 'full', catalog, fullLists: ['kz', 'global'], filter: none, budgetExhausted: false });
    expect(plan.lists).toEqual(['core', 'kz', 'global']);
    const urls = plan.targets.map((t) => t.url);
    expect(new Set(urls).size).toBe(urls.length);
    expect(urls.slice(0, CORE_TARGETS.length)).toEqual(CORE_TARGETS.map((t) => t.url));
    // facebook.com is on the global list and in core: measured once, as core.
    expect(plan.targets.filter((t) => t.url === 'https://www.facebook.com/').map((t) => t.testList)).toEqual(['core']);
    const kz = catalog.lists.get('kz')?.entries.length ?? 0;
    const global = catalog.lists.get('global')?.entries.length ?? 0;
    expect(plan.targets.length).toBeGreaterThan(kz + global - 100);
    expect(plan.limitedByBudget).toBe(false);
  });

  it('a full run with the budget spent is the core list only, and says so', () => {
    const plan = planRun({ kind: 'full', catalog, fullLists: ['kz', 'global'], filter: none, budgetExhausted: true });
    expect(plan.lists).toEqual(['core']);
    expect(plan.limitedByBudget).toBe(true);
    expect(plan.targets).toHaveLength(CORE_TARGETS.length);
  });

  it('filters by category everywhere, core list included, mapping old codes', () => {
    const onlyNews = planRun({ kind: 'full', catalog, fullLists: ['kz'], filter: { categories: ['FEXP'], excludeCategories: [] }, budgetExhausted: false, legend });
    expect(onlyNews.targets.length).toBeGreaterThan(100);
    expect(onlyNews.targets.every((t) => t.categoryCode === 'NEWS')).toBe(true);
    expect(onlyNews.filteredOut).toBeGreaterThan(100);
    const noSocial = planRun({ kind: 'core', catalog, fullLists: [], filter: { categories: [], excludeCategories: ['GRP', 'MMED'] }, budgetExhausted: false });
    expect(noSocial.targets.map((t) => t.categoryCode)).not.toContain('GRP');
    expect(noSocial.targets.map((t) => t.url)).not.toContain('https://www.youtube.com/');
    expect(noSocial.targets.length).toBe(CORE_TARGETS.filter((t) => t.categoryCode !== 'GRP' && t.categoryCode !== 'MMED').length);
  });

  it('names a configured list that does not exist', () => {
    const plan = planRun({ kind: 'full', catalog, fullLists: ['kz', 'ru'], filter: none, budgetExhausted: false });
    expect(plan.missingLists).toEqual(['ru']);
    expect(plan.lists).toEqual(['core', 'kz']);
  });

  it('passesFilter: include list, exclude list, both', () => {
    expect(passesFilter('NEWS', none)).toBe(true);
    expect(passesFilter('NEWS', { categories: ['GRP'], excludeCategories: [] })).toBe(false);
    expect(passesFilter('GAYL', { categories: [], excludeCategories: ['LGBT'] }, legend)).toBe(false);
    expect(passesFilter('LGBT', { categories: ['LGBT'], excludeCategories: ['LGBT'] })).toBe(false);
  });
});
