import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ManualClock } from '@steppe/shared';
import { registerApiRoutes } from '../../src/api/routes.js';
import { CHART_FONT, EVENT_FILL, NO_DATA_HATCH, STATE_STYLES } from '../../src/dashboard/chart-style.js';
import { registerDashboardRoutes } from '../../src/dashboard/routes.js';
import { DASHBOARD_CSP } from '../../src/dashboard/security-headers.js';
import { ASSETS_DIR, ASSET_FILES, I18N_FILES } from '../../src/dashboard/static-files.js';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import { seedEventsFromFile } from '../../src/timeline/events.js';
import { BEELINE, KAZAKHTELECOM } from '../store/fixtures.js';
import { HOUR, MIN, addProbe, every, ingest } from '../timeline/seed.js';
import { findAll, parseXml, textOf } from './xml-tree.js';

const DAY = Date.UTC(2020, 11, 6);
const at = (h: number, m = 0): number => DAY + h * HOUR + m * MIN;

let store: SqliteStore;
let listening: Listening;
let base = '';
const clock = new ManualClock(at(12));

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  await seedEventsFromFile(store, at(0));
  // Three Kazakhtelecom probes: www.facebook.com reset by SNI (confirmed) from 04:02 to 07:47.
  for (const i of [0, 1, 2]) {
    const probe = await addProbe(store, KAZAKHTELECOM, DAY);
    await ingest(store, probe, every(10 * MIN, at(0), at(12), i * 3 * MIN).map((t) => (t >= at(4, 2) && t < at(7, 47)
      ? { startMs: t, domain: 'www.facebook.com', verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset', confirmed: true }
      : { startMs: t, domain: 'www.facebook.com' })));
  }
  // One Beeline probe: www.youtube.com, silent from 05:00 to 08:00 (no data, not accessible).
  const beeline = await addProbe(store, BEELINE, DAY);
  await ingest(store, beeline, every(20 * MIN, at(0), at(12)).filter((t) => t < at(5) || t >= at(8)).map((t) => ({ startMs: t, domain: 'www.youtube.com', categoryCode: 'MMED' })));
  const router = new Router();
  registerApiRoutes(router, { store, clock });
  registerDashboardRoutes(router, { store, clock, publicUrl: 'https://collector.example.org/' });
  listening = await listenRouter(router, '127.0.0.1', 0);
  base = listening.url;
});

afterAll(async () => {
  await listening.close();
  await store.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${base}${path}`, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, text: bytes.toString('utf8'), headers: res.headers, bytes };
}

const RANGE = 'since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z';

describe('GET /api/v1/timeline.svg', () => {
  it('draws exactly the states of GET /api/v1/timeline, one row per domain × ASN', async () => {
    const json = JSON.parse((await get(`/api/v1/timeline?${RANGE}&grain=1h&split=domain_asn`)).text) as { series: { domain: string; probe_asn: number; buckets: { state: string }[] }[] };
    const res = await get(`/api/v1/timeline.svg?${RANGE}&grain=1h&time_zone=Asia/Almaty`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const root = parseXml(res.text);
    const rows = findAll(root, 'g', 'row');
    expect(json.series).toHaveLength(2);
    expect(rows.map((r) => [r.attributes['data-domain'], Number(r.attributes['data-asn'])])).toEqual(json.series.map((s) => [s.domain, s.probe_asn]));
    rows.forEach((row, i) => {
      const states = row.children.filter((c) => c.name === 'rect').map((c) => c.attributes['data-state']);
      expect(states).toEqual(json.series[i]?.buckets.map((b) => b.state));
    });
    expect(findAll(root, 'rect', 'cell')).toHaveLength(2 * 12);
    // The seeded truth: facebook/AS9198 confirmed 04:00-08:00; youtube/AS21299 has no data 05:00-08:00.
    const fb = rows[0]?.children.filter((c) => c.name === 'rect').map((c) => c.attributes['data-state']) ?? [];
    expect(fb.slice(4, 8)).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
    const yt = rows[1]?.children.filter((c) => c.name === 'rect').map((c) => c.attributes['data-state']) ?? [];
    expect(yt.slice(5, 8)).toEqual(['no_data', 'no_data', 'no_data']);
    expect(yt[4]).toBe('accessible');
    // Labels name the network; the seeded event is shaded; the footer cites the JSON query and the time.
    expect(findAll(root, 'text', 'row-label').map((t) => t.text)).toEqual(['www.facebook.com · AS9198 JSC Kazakhtelecom', 'www.youtube.com · AS21299 Kar-Tel LLC']);
    expect(findAll(root, 'g', 'event').map((e) => e.attributes['data-name'])).toEqual(['Cyber Security Nur-Sultan 2020']);
    const footer = textOf(findAll(root, 'g', 'footer')[0] ?? root);
    expect(footer).toContain('Source: https://collector.example.org/api/v1/timeline?since=2020-12-06T00%3A00%3A00.000Z&until=2020-12-06T12%3A00%3A00.000Z&grain=1h&split=domain_asn');
    expect(footer).toContain(`Generated ${new Date(at(12)).toISOString()}`);
    expect(findAll(root, 'text', 'axis-note')[0]?.text).toContain('Asia/Almaty (UTC+06:00)');
  });

  it('takes the filters of /api/v1/timeline', async () => {
    const root = parseXml((await get(`/api/v1/timeline.svg?${RANGE}&domain=www.youtube.com&probe_asn=AS21299&grain=5m`)).text);
    expect(findAll(root, 'g', 'row')).toHaveLength(1);
    expect(findAll(root, 'rect', 'cell')).toHaveLength(12 * 12);
    const overall = parseXml((await get(`/api/v1/timeline.svg?${RANGE}&split=none&probe_cc=kz`)).text);
    expect(findAll(overall, 'text', 'row-label').map((t) => t.text)).toEqual(['all domains · all networks']);
    const head = await fetch(`${base}/api/v1/timeline.svg?${RANGE}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
  });

  it.each([
    ['grain=2h', 'grain'],
    ['since=yesterday', 'since'],
    ['since=2020-12-06&until=2020-12-05', 'until'],
    ['time_zone=Mars/Olympus_Mons', 'time_zone'],
    ['domains=www.facebook.com', 'domains'],
    ['probe_asn=ASX', 'probe_asn'],
    ['width=100', 'width'],
    ['split=probe', 'split'],
    // 100 days of 5-minute buckets × 2 rows is more than one SVG draws.
    ['since=2020-09-01&until=2020-12-10&grain=5m', 'grain'],
  ])('answers 400 naming the parameter for %s', async (query, name) => {
    const res = await get(`/api/v1/timeline.svg?${query}`);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('STEPPE_ERR_INVALID_ARGUMENT');
    expect(body.error.message).toContain(`parameter "${name}"`);
  });
});

describe('GET /dashboard', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script or style', async () => {
    const res = await get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = res.text;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      if (attributes?.includes('type="application/json"') === true) {
        // The page's catalog: a data block the browser never runs, JSON with no "<" in it.
        expect(body).not.toContain('<');
        expect(JSON.parse(body ?? '')).toMatchObject({ language: 'en', explicit: false });
        continue;
      }
      expect(attributes).toMatch(/\ssrc="\/dashboard\//);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('<meta name="steppe-default-time-zone" content="Asia/Almaty">');
    // The form works without JavaScript too: a GET to the page with the API's parameter names.
    for (const name of ['domain', 'probe_asn', 'probe_cc', 'category_code', 'since', 'until', 'grain', 'time_zone']) expect(html).toContain(`name="${name}"`);
  });

  it('serves every file the page and its modules reference', async () => {
    const html = (await get('/dashboard')).text;
    const referenced = [...html.matchAll(/\s(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(referenced).toContain('/dashboard/assets/app.js');
    expect(referenced).toContain('/dashboard/vendor/uPlot.min.css');
    const seen = new Set<string>();
    const queue = [...referenced];
    while (queue.length > 0) {
      const path = queue.shift() ?? '';
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      if (path.endsWith('.js')) {
        expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
        // Follow static and dynamic imports: every module the browser will ask for must be served
        // (comments left out: a JSDoc type such as import('intl-messageformat') is never fetched).
        const code = res.text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'([^']+)'/gm)) queue.push(new URL(m[1] ?? '', `http://x${path}`).pathname);
      }
    }
    for (const name of ASSET_FILES) expect(seen.has(`/dashboard/assets/${name}`), name).toBe(true);
    for (const name of I18N_FILES) expect(seen.has(`/dashboard/i18n/${name}`), name).toBe(true);
    expect(seen.has('/dashboard/vendor/uPlot.esm.js')).toBe(true);
    expect(seen.has('/dashboard/vendor/intl-messageformat.js')).toBe(true);
  });

  it('serves uPlot byte for byte from node_modules, and answers 304 to a matching ETag', async () => {
    const require = createRequire(import.meta.url);
    const res = await get('/dashboard/vendor/uPlot.esm.js');
    expect(res.bytes.equals(readFileSync(require.resolve('uplot/dist/uPlot.esm.js')))).toBe(true);
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await get('/dashboard/vendor/uPlot.esm.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    const app = await get('/dashboard/assets/app.js');
    expect(app.bytes.equals(readFileSync(`${ASSETS_DIR}app.js`))).toBe(true);
    expect((await get('/dashboard/assets/app.js', { 'if-none-match': app.headers.get('etag') ?? '' })).status).toBe(304);
  });

  it('serves nothing outside its allow-list', async () => {
    for (const path of ['/dashboard/assets/tsconfig.json', '/dashboard/assets/..%2Fstatic-files.ts', '/dashboard/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/dashboard/vendor/package.json', '/dashboard/assets/index.html']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text).error.code).toBe('STEPPE_ERR_NOT_FOUND');
    }
  });

  it('keeps the page palette equal to the SVG palette', async () => {
    const css = readFileSync(`${ASSETS_DIR}style.css`, 'utf8');
    const prop = (name: string): string | undefined => new RegExp(`${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css)?.[1]?.toLowerCase();
    for (const s of STATE_STYLES) expect(prop(`--state-${s.state.replace('_', '-')}`), s.state).toBe(s.fill);
    expect(prop('--no-data-hatch')).toBe(NO_DATA_HATCH);
    expect(prop('--event')).toBe(EVENT_FILL);
    const js = readFileSync(`${ASSETS_DIR}heat-strip.js`, 'utf8');
    for (const s of STATE_STYLES) expect(js).toContain(`'${s.fill}'`);
  });

  it('uses one font stack, covering Kazakh Cyrillic, in the page, its canvas and the SVG', () => {
    expect(readFileSync(`${ASSETS_DIR}style.css`, 'utf8')).toContain(`font-family: ${CHART_FONT};`);
    expect(readFileSync(`${ASSETS_DIR}heat-strip.js`, 'utf8')).toContain(`const FONT_FAMILY = "${CHART_FONT}";`);
    for (const family of ['Noto Sans', 'PT Sans', 'DejaVu Sans']) expect(CHART_FONT).toContain(`'${family}'`);
  });

  it('takes the default time zone from its options, and refuses a bad one', async () => {
    const router = new Router();
    const routes = registerDashboardRoutes(router, { store, clock, defaultTimeZone: 'Asia/Aqtobe' });
    expect(routes.map((r) => r.pattern)).toEqual(['/dashboard', '/dashboard/assets/:file', '/dashboard/i18n/:file', '/dashboard/vendor/:file', '/api/v1/timeline.svg']);
    const other = createServer((req, res) => void router.handle(req, res));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      expect(await (await fetch(`${url}/dashboard`)).text()).toContain('<meta name="steppe-default-time-zone" content="Asia/Aqtobe">');
      const svg = parseXml(await (await fetch(`${url}/api/v1/timeline.svg?${RANGE}`)).text());
      expect(findAll(svg, 'text', 'axis-note')[0]?.text).toContain('Asia/Aqtobe');
      // Without a public URL, the footer cites the address the request came to.
      expect(textOf(findAll(svg, 'g', 'footer')[0] ?? svg)).toContain(`Source: ${url}/api/v1/timeline?`);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    expect(() => registerDashboardRoutes(new Router(), { store, clock, defaultTimeZone: 'Nowhere/Special' })).toThrow(InvalidArgumentError);
    expect(() => registerDashboardRoutes(new Router(), { store, clock, defaultTimeZone: 'Nowhere/Special' })).toThrow(/option defaultTimeZone/);
  });
});
