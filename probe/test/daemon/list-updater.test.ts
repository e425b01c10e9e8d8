import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { EgressGuard, parseCidrList } from '@steppe/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup } from '../../src/connectivity/guarded-lookup.js';
import { createGuardedHttpGet } from '../../src/connectivity/http-get.js';
import { JsonLog } from '@steppe/shared';
import { followTestListUpdates } from '../../src/daemon/list-updater.js';
import { TEST_LIST_BUNDLE_FORMAT } from '@steppe/shared';
import { SHIPPED_LISTS_VERSION } from '../../src/testlists/shipped.js';
import { TestListStore } from '../../src/testlists/store.js';
import { ingestUrl } from '../../src/uplink/collector-url.js';

const HEADER = 'url,category_code,category_description,date_added,source,notes';
const bundle = (version: string, row: string): string => JSON.stringify({ format: TEST_LIST_BUNDLE_FORMAT, version, lists: [{ name: 'kz', csv: `${HEADER}\n${row}\n` }] });

describe('test lists follow the version in the collector Welcome', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let fetched: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'steppe-updater-'));
    server = createServer((req, res) => {
      fetched.push(req.url ?? '');
      if (req.url === '/api/v1/test-lists/v2') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(bundle('v2', 'https://vlast.kz/,NEWS,News Media,2019-05-25,x,'));
      } else if (req.url === '/api/v1/test-lists/v3') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(bundle('v3', 'https://vlast.kz/,NEWS,News Media,25.05.2019,x,'));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs a newer valid version, refuses a bad one (old kept), and logs both', async () => {
    const uplink = new EventEmitter();
    const lists = new TestListStore(dir);
    const guard = new EgressGuard(parseCidrList('127.0.0.0/8'));
    const http = createGuardedHttpGet({ guard, lookup: guardedLookup({ resolver: { host: '127.0.0.1', port: 9 }, guard, timeoutMs: 500 }) });
    const out = new PassThrough();
    let logText = '';
    out.on('data', (c: Buffer) => (logText += c.toString()));
    let charged = 0;
    let settled: () => void = () => {};
    const stop = followTestListUpdates(
      { uplink, lists, http, config: { collectors: [base], testLists: { acceptFromCollector: true } }, charge: (b) => (charged += b), onSettled: () => settled() },
      new JsonLog(out),
      new AbortController().signal,
    );
    const announce = (version: string): Promise<void> =>
      new Promise((resolve) => {
        settled = resolve;
        uplink.emit('testListVersion', { url: ingestUrl(base), version });
      });

    expect(lists.currentVersion()).toBe(SHIPPED_LISTS_VERSION);
    await announce('v2');
    expect(lists.currentVersion()).toBe('v2');
    expect(lists.load().lists.get('kz')?.entries.map((e) => e.url)).toEqual(['https://vlast.kz/']);
    expect(charged).toBeGreaterThan(0);
    await announce('v3');
    expect(lists.currentVersion()).toBe('v2');
    fetched = [];
    uplink.emit('testListVersion', { url: ingestUrl(base), version: 'v2' }); // the version in use: nothing fetched
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fetched).toEqual([]);
    stop();
    uplink.emit('testListVersion', { url: ingestUrl(base), version: 'v9' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fetched).toEqual([]);

    const events = logText.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'test_lists_installed', version: 'v2', previous: null, lists: ['kz'] });
    expect(events[1]).toMatchObject({ event: 'test_lists_refused', version: 'v3', kept: 'v2', code: 'STEPPE_ERR_TEST_LIST' });
    expect(String(events[1]?.['error'])).toMatch(/line 2: date_added "25\.05\.2019"/);
  });

  it('does nothing when the config refuses collector lists', async () => {
    const uplink = new EventEmitter();
    const lists = new TestListStore(join(dir, 'off'));
    fetched = [];
    followTestListUpdates(
      { uplink, lists, http: async () => Promise.reject(new Error('must not fetch')), config: { collectors: [base], testLists: { acceptFromCollector: false } }, charge: () => {} },
      new JsonLog(new PassThrough()),
      new AbortController().signal,
    );
    uplink.emit('testListVersion', { url: ingestUrl(base), version: 'v2' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lists.currentVersion()).toBe(SHIPPED_LISTS_VERSION);
  });
});
