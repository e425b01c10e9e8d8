import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressGuard, hasErrorCode, parseCidrList } from '@steppe/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup } from '../../src/connectivity/guarded-lookup.js';
import { createGuardedHttpGet } from '../../src/connectivity/http-get.js';
import { parseTestListBundle, TEST_LIST_BUNDLE_FORMAT } from '@steppe/shared';
import { CORE_TARGETS } from '../../src/testlists/core.js';
import { planRun } from '../../src/testlists/select.js';
import { SHIPPED_LISTS_VERSION } from '../../src/testlists/shipped.js';
import { TestListStore } from '../../src/testlists/store.js';
import { testListBundleUrl, updateTestLists } from '../../src/testlists/update.js';

const HEADER = 'url,category_code,category_description,date_added,source,notes';
const csv = (...rows: string[]): string => `${HEADER}\n${rows.join('\n')}\n`;
const bundle = (version: string, lists: { name: string; csv: string }[]): string => JSON.stringify({ format: TEST_LIST_BUNDLE_FORMAT, version, lists });

const GOOD = bundle('2026-07-01.1', [
  { name: 'kz', csv: csv('https://vlast.kz/,NEWS,News Media,2019-05-25,Access Now,', 'https://new.example.kz/,NEWS,News Media,2026-07-01,steppe,') },
]);

describe('parseTestListBundle', () => {
  it('accepts a well-formed bundle', () => {
    const b = parseTestListBundle(GOOD, '2026-07-01.1');
    expect(b.version).toBe('2026-07-01.1');
    expect(b.lists.map((l) => [l.name, l.entries.length])).toEqual([['kz', 2]]);
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"format":', /not valid JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['wrong format', JSON.stringify({ format: 'x', version: '1', lists: [] }), /field "format"/],
    ['bad version', bundle('../etc', [{ name: 'kz', csv: csv('https://a.example/,NEWS,x,2020-01-01,me,') }]), /field "version"/],
    ['other version than asked', bundle('2026-07-02', [{ name: 'kz', csv: csv('https://a.example/,NEWS,x,2020-01-01,me,') }]), /asked for "2026-07-01.1"/],
    ['no lists', bundle('2026-07-01.1', []), /field "lists"/],
    ['bad list name', bundle('2026-07-01.1', [{ name: 'KZ!', csv: csv('https://a.example/,NEWS,x,2020-01-01,me,') }]), /lists\[0\]\.name/],
    ['duplicate list', bundle('2026-07-01.1', [{ name: 'kz', csv: csv('https://a.example/,NEWS,x,2020-01-01,me,') }, { name: 'kz', csv: csv('https://b.example/,NEWS,x,2020-01-01,me,') }]), /appears twice/],
    ['one bad row', bundle('2026-07-01.1', [{ name: 'kz', csv: csv('https://a.example/,NEWS,x,2020-01-01,me,', 'javascript:alert(1),NEWS,x,2020-01-01,me,') }]), /list "kz" line 3/],
    ['bad header', bundle('2026-07-01.1', [{ name: 'kz', csv: 'url\nhttps://a.example/\n' }]), /list "kz" line 1: bad header/],
    ['empty list', bundle('2026-07-01.1', [{ name: 'kz', csv: `${HEADER}\n` }]), /has no URLs/],
    ['unknown field', JSON.stringify({ format: TEST_LIST_BUNDLE_FORMAT, version: '2026-07-01.1', lists: [], extra: 1 }), /unknown field "extra"/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses ${name}`, () => {
      let error: unknown;
      try {
        parseTestListBundle(text, '2026-07-01.1');
      } catch (err) {
        error = err;
      }
      expect(hasErrorCode(error, 'STEPPE_ERR_TEST_LIST')).toBe(true);
      expect((error as Error).message).toMatch(message);
    });
  }
});

describe('TestListStore and updates pushed by the collector', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const served = new Map<string, { status: number; body: string }>();
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'steppe-lists-'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const answer = served.get(req.url ?? '') ?? { status: 404, body: '{"code":"STEPPE_ERR_NOT_FOUND"}' };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const guard = new EgressGuard(parseCidrList('127.0.0.0/8'));
  const get = createGuardedHttpGet({ guard, lookup: guardedLookup({ resolver: { host: '127.0.0.1', port: 9 }, guard, timeoutMs: 500 }) });

  it('starts with the built-in core list and the shipped lists', () => {
    const catalog = new TestListStore(dir).load();
    expect(catalog.version).toBe(SHIPPED_LISTS_VERSION);
    expect([...catalog.lists.keys()].sort()).toEqual(['core', 'global', 'kz']);
    expect(catalog.lists.get('core')?.entries.length).toBe(CORE_TARGETS.length);
    expect(catalog.problems).toEqual([]);
  });

  it('fetches, validates and installs a newer bundle; measurements then carry its version', async () => {
    served.set('/api/v1/test-lists/2026-07-01.1', { status: 200, body: GOOD });
    const store = new TestListStore(dir);
    let traffic = 0;
    const result = await updateTestLists({ store, get, collectorUrl: base, version: '2026-07-01.1', timeoutMs: 2000, onTraffic: (b) => (traffic += b) });
    expect(result).toMatchObject({ outcome: 'installed', version: '2026-07-01.1', lists: ['kz'] });
    expect(traffic).toBeGreaterThan(GOOD.length);
    const catalog = store.load();
    expect(catalog.version).toBe('2026-07-01.1');
    expect(catalog.lists.get('kz')?.entries.map((e) => e.url)).toEqual(['https://vlast.kz/', 'https://new.example.kz/']);
    expect(catalog.lists.get('global')?.origin).toBe('shipped');
    const plan = planRun({ kind: 'full', catalog, fullLists: ['kz'], filter: { categories: [], excludeCategories: [] }, budgetExhausted: false });
    expect(plan.targets.find((t) => t.url === 'https://new.example.kz/')).toEqual({ url: 'https://new.example.kz/', categoryCode: 'NEWS', testList: 'kz', testListVersion: '2026-07-01.1' });
    // Asking again for the installed version does not fetch.
    const before = requests.length;
    expect((await updateTestLists({ store, get, collectorUrl: base, version: '2026-07-01.1', timeoutMs: 2000 })).outcome).toBe('current');
    expect(requests.length).toBe(before);
  });

  it('a bad new bundle is refused and the old lists are kept', async () => {
    const store = new TestListStore(dir);
    const installed = readFileSync(store.bundlePath, 'utf8');
    served.set('/api/v1/test-lists/2026-08-01', {
      status: 200,
      body: bundle('2026-08-01', [{ name: 'kz', csv: csv('https://fine.example/,NEWS,x,2020-01-01,me,', 'https://bad.example/,news,x,2020-01-01,me,') }]),
    });
    await expect(updateTestLists({ store, get, collectorUrl: base, version: '2026-08-01', timeoutMs: 2000 })).rejects.toThrow(/line 3: category_code "news"/);
    served.set('/api/v1/test-lists/2026-08-02', { status: 200, body: GOOD }); // a bundle for another version
    await expect(updateTestLists({ store, get, collectorUrl: base, version: '2026-08-02', timeoutMs: 2000 })).rejects.toThrow(/asked for "2026-08-02"/);
    await expect(updateTestLists({ store, get, collectorUrl: base, version: '2026-09-09', timeoutMs: 2000 })).rejects.toThrow(/HTTP status 404/);
    await expect(updateTestLists({ store, get, collectorUrl: base, version: '../../x', timeoutMs: 2000 })).rejects.toThrow(/not a valid version/);
    expect(readFileSync(store.bundlePath, 'utf8')).toBe(installed);
    expect(store.load().version).toBe('2026-07-01.1');
  });

  it('a collector outside the egress allow-list is never contacted', async () => {
    const narrow = new EgressGuard(parseCidrList('127.0.0.2/32'));
    const guardedGet = createGuardedHttpGet({ guard: narrow, lookup: guardedLookup({ resolver: { host: '127.0.0.2', port: 9 }, guard: narrow, timeoutMs: 500 }) });
    const before = requests.length;
    await expect(updateTestLists({ store: new TestListStore(dir), get: guardedGet, collectorUrl: base, version: '2026-10-01', timeoutMs: 2000 })).rejects.toThrow(/outside the --allow-net list/);
    expect(requests.length).toBe(before);
  });

  it('a damaged stored bundle falls back to the shipped lists, and says so', () => {
    const store = new TestListStore(dir);
    writeFileSync(store.bundlePath, '{"format": "steppe-test-lists/1", "version": "x", "lists": [');
    const catalog = store.load();
    expect(catalog.version).toBe(SHIPPED_LISTS_VERSION);
    expect(catalog.problems.map((p) => p.problem.message)).toEqual([expect.stringMatching(/stored bundle ignored: .*not valid JSON/) as unknown as string]);
  });

  it('builds the bundle URL under the collector base', () => {
    expect(testListBundleUrl('https://c.example/steppe', 'v1')).toBe('https://c.example/steppe/api/v1/test-lists/v1');
    expect(testListBundleUrl('http://127.0.0.1:8080/', '2026.1')).toBe('http://127.0.0.1:8080/api/v1/test-lists/2026.1');
  });
});
