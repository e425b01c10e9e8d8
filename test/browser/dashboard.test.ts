import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, generateSigningKeyPair } from '@steppe/shared';
import { registerApiRoutes } from '../../collector/src/api/routes.js';
import { registerDashboardRoutes } from '../../collector/src/dashboard/routes.js';
import { EVENT_FILL, NO_DATA_HATCH, STATE_STYLES } from '../../collector/src/dashboard/chart-style.js';
import { registerExportRoutes } from '../../collector/src/export/routes.js';
import { type Listening, listenRouter } from '../../collector/src/http/listen.js';
import { Router } from '../../collector/src/http/router.js';
import { openSqliteStore, type SqliteStore } from '../../collector/src/store/sqlite-store.js';
import { seedEventsFromFile } from '../../collector/src/timeline/events.js';
import { DAY_MS, seedDashboardDay } from './seed.js';

/**
 * The dashboard in a real browser: Debian's chromium driven by
 * playwright-core, against a real collector HTTP server on loopback with the
 * API, export and dashboard routes over a seeded database. Every request the
 * page makes that is not to 127.0.0.1 is aborted (and counted: there must be
 * none). The screenshot lands in test-results/dashboard.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn([
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    `!! SKIPPED: the dashboard browser test needs ${CHROMIUM}.`,
    '!! Install it with: apt-get update && apt-get install -y chromium',
    '!! (.ci/run installs it when it runs as root.)',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '',
  ].join('\n'));
}

const SCREENSHOT = fileURLToPath(new URL('../../test-results/dashboard.png', import.meta.url));
const VIEW = '/dashboard?since=2020-12-06&until=2020-12-07&grain=1h&time_zone=Asia/Almaty';

let store: SqliteStore;
let listening: Listening;
let base = '';
let userDataDir = '';
let context: BrowserContext;
let page: Page;
let seeded: { committed: number; verdicts: Record<string, number> };
const outsideRequests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  store = await openSqliteStore(':memory:');
  await seedEventsFromFile(store, DAY_MS);
  seeded = await seedDashboardDay(store);
  const clock = new ManualClock(DAY_MS + 86_400_000);
  const router = new Router();
  registerApiRoutes(router, { store, clock });
  registerExportRoutes(router, { store, clock, collectorKey: generateSigningKeyPair() });
  registerDashboardRoutes(router, { store, clock });
  listening = await listenRouter(router, '127.0.0.1', 0);
  base = listening.url;

  userDataDir = mkdtempSync(join(tmpdir(), 'steppe-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    timezoneId: 'America/New_York',
  });
  // The page may reach the collector on loopback and nothing else, ever.
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    outsideRequests.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, 120_000);

afterAll(async () => {
  if (!HAVE_CHROMIUM) return;
  await context?.close();
  if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
  await listening.close();
  await store?.close();
});

/**
 * The few browser globals the page callbacks use. The test project is
 * type-checked without the DOM library (it is Node code); these callbacks
 * run in the page, where `globalThis` has them.
 */
interface PageBox { left: number; top: number; width: number; height: number }
interface PageElement { textContent: string | null; dataset: Record<string, string | undefined>; getAttribute(name: string): string | null; getBoundingClientRect(): PageBox }
interface PageCanvas extends PageElement { width: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null }
interface PageGlobals {
  document: { body: PageElement; getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null };
  DOMParser: new () => { parseFromString(text: string, type: string): { querySelector(selector: string): unknown } };
}

/** Wait until the page has drawn a view (or shown an error). */
async function settled(p: Page): Promise<void> {
  await p.waitForFunction(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return document.body.getAttribute('aria-busy') === null && (document.getElementById('status')?.textContent ?? '') !== 'Loading…';
  });
}

interface Rgb { r: number; g: number; b: number }
const rgb = (hex: string): Rgb => ({ r: parseInt(hex.slice(1, 3), 16), g: parseInt(hex.slice(3, 5), 16), b: parseInt(hex.slice(5, 7), 16) });
/** `top` painted with `alpha` over `under` (canvas source-over). */
const over = (under: Rgb, top: Rgb, alpha: number): Rgb => ({
  r: top.r * alpha + under.r * (1 - alpha),
  g: top.g * alpha + under.g * (1 - alpha),
  b: top.b * alpha + under.b * (1 - alpha),
});
const close = (a: Rgb, b: Rgb, tolerance = 4): boolean => Math.abs(a.r - b.r) <= tolerance && Math.abs(a.g - b.g) <= tolerance && Math.abs(a.b - b.b) <= tolerance;
const fill = (state: string): Rgb => rgb(STATE_STYLES.find((s) => s.state === state)?.fill ?? '#000000');

/**
 * Pixels of a chart cell (row r counted from the top, 0 = the events track;
 * bucket i), read from the canvas uPlot drew, in a box inside the cell.
 */
async function cellPixels(p: Page, r: number, i: number): Promise<Rgb[]> {
  return p.evaluate(([row, bucket]) => {
    const { document } = globalThis as unknown as PageGlobals;
    const canvas = document.querySelector('#chart canvas') as PageCanvas | null;
    const plotArea = document.querySelector('#chart .u-over');
    const chart = document.getElementById('chart');
    if (canvas === null || plotArea === null || chart === null) throw new Error('no chart');
    const rows = Number(chart.dataset['rows']) + 1;
    const buckets = Number(chart.dataset['buckets']);
    const c = canvas.getBoundingClientRect();
    const o = plotArea.getBoundingClientRect();
    const scale = canvas.width / c.width;
    const cellW = o.width / buckets;
    const cellH = o.height / rows;
    const x = (o.left - c.left + cellW * (bucket + 0.25)) * scale;
    const y = (o.top - c.top + cellH * (row + 0.3)) * scale;
    const w = Math.max(1, Math.floor(cellW * 0.5 * scale));
    const h = Math.max(1, Math.floor(cellH * 0.4 * scale));
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2d context');
    const data = ctx.getImageData(Math.round(x), Math.round(y), w, h).data;
    const out: { r: number; g: number; b: number }[] = [];
    for (let k = 0; k < data.length; k += 4) out.push({ r: data[k] ?? 0, g: data[k + 1] ?? 0, b: data[k + 2] ?? 0 });
    return out;
  }, [r, i] as const);
}

/** The summary table: label and bucket counts per state, row by row (the chart's row order). */
async function summary(p: Page): Promise<{ label: string; accessible: number; anomaly: number; confirmed: number; no_data: number; measurements: number }[]> {
  return p.$$eval('#strip-summary tbody tr', (trs) => trs.map((tr) => {
    const n = (sel: string): number => Number((tr.querySelector(sel)?.textContent ?? '').replace(/,/g, ''));
    return {
      label: tr.querySelector('th')?.textContent ?? '',
      accessible: n('[data-state="accessible"]'),
      anomaly: n('[data-state="anomaly"]'),
      confirmed: n('[data-state="confirmed"]'),
      no_data: n('[data-state="no_data"]'),
      measurements: n('td:nth-of-type(5)'),
    };
  }));
}

describe.skipIf(!HAVE_CHROMIUM)('the dashboard in headless Chromium', () => {
  it('seeded the day through the store with verdicts from the engine', () => {
    // 3 Kazakhtelecom probes × 72 slots + 2 Beeline probes × 63 slots (3 silent hours), × 3 sites.
    expect(seeded.committed).toBe((3 * 72 + 2 * 63) * 3);
    expect(Object.keys(seeded.verdicts).sort()).toEqual(['accessible', 'blockpage', 'tls']);
  });

  it('draws one strip per domain × ASN, with anomaly, confirmed and no-data cells', async () => {
    await page.goto(`${base}${VIEW}`);
    await settled(page);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.textContent('#status')).toBe('Showing 6 strips and 2 episodes.');
    expect(await page.getAttribute('#chart', 'data-rows')).toBe('6');
    expect(await page.getAttribute('#chart', 'data-buckets')).toBe('24');
    expect(await page.locator('#chart canvas').count()).toBe(1);

    const rows = await summary(page);
    expect(rows.map((r) => r.label)).toEqual([
      'www.facebook.com · AS9198 JSC Kazakhtelecom',
      'www.facebook.com · AS21299 Kar-Tel LLC',
      'www.instagram.com · AS9198 JSC Kazakhtelecom',
      'www.instagram.com · AS21299 Kar-Tel LLC',
      'www.youtube.com · AS9198 JSC Kazakhtelecom',
      'www.youtube.com · AS21299 Kar-Tel LLC',
    ]);
    expect(rows[0]).toMatchObject({ anomaly: 4, confirmed: 0, no_data: 0, accessible: 20, measurements: 216 });
    expect(rows[2]).toMatchObject({ anomaly: 0, confirmed: 4, no_data: 0, accessible: 20 });
    for (const r of [rows[1], rows[3], rows[5]]) expect(r).toMatchObject({ no_data: 3, accessible: 21, anomaly: 0, confirmed: 0, measurements: 126 });
    expect(rows[4]).toMatchObject({ accessible: 24, no_data: 0 });

    // What the canvas shows, pixel by pixel. The seeded event has no end, so
    // the whole plot sits under its light shading.
    const shade = rgb(EVENT_FILL);
    const drawn = (state: string): Rgb => over(fill(state), shade, 0.08);
    const all = (pixels: Rgb[], colour: Rgb): boolean => pixels.length > 0 && pixels.every((px) => close(px, colour));
    expect(all(await cellPixels(page, 1, 5), drawn('anomaly')), 'facebook/AS9198 05:00 is an anomaly').toBe(true);
    expect(all(await cellPixels(page, 3, 5), drawn('confirmed')), 'instagram/AS9198 05:00 is confirmed').toBe(true);
    expect(all(await cellPixels(page, 1, 1), drawn('accessible')), 'facebook/AS9198 01:00 is accessible').toBe(true);
    expect(all(await cellPixels(page, 2, 15), drawn('accessible')), 'facebook/AS21299 15:00 is not drawn as accessible').toBe(false);
    const gap = await cellPixels(page, 2, 15);
    // Hatched: the light background and the darker stripes, nothing else.
    const background = over(fill('no_data'), shade, 0.08);
    const stripe = over(rgb(NO_DATA_HATCH), shade, 0.08);
    expect(gap.filter((px) => close(px, background, 6)).length).toBeGreaterThan(gap.length / 4);
    expect(gap.filter((px) => px.r < background.r - 25).length).toBeGreaterThan(gap.length / 10);
    expect(gap.some((px) => close(px, stripe, 12))).toBe(true);
    // The events track is shaded more strongly.
    expect(all(await cellPixels(page, 0, 22), over(rgb('#f4f4f4'), shade, 0.35))).toBe(true);
  });

  it('reads a cell under the pointer, in UTC and local time', async () => {
    const box = await page.locator('#chart .u-over').boundingBox();
    if (box === null) throw new Error('no plot area');
    await page.mouse.move(box.x + (box.width / 24) * 5.5, box.y + (box.height / 7) * 1.5);
    await expect.poll(() => page.textContent('#readout')).toBe('www.facebook.com · AS9198 JSC Kazakhtelecom · 2020-12-06 05:00 UTC – 06:00 UTC (11:00–12:00 Asia/Almaty): anomaly: 9 of 9 measurements anomalous, 0 confirmed');
    await page.mouse.move(box.x + (box.width / 24) * 15.5, box.y + (box.height / 7) * 2.5);
    await expect.poll(() => page.textContent('#readout')).toContain('www.facebook.com · AS21299 Kar-Tel LLC · 2020-12-06 15:00 UTC – 16:00 UTC (21:00–22:00 Asia/Almaty): no data');
  });

  it('lists the episodes with onset and end in UTC and local time, and links to exactly their measurements', async () => {
    const episodes = page.locator('#episodes tbody tr.episode');
    expect(await episodes.count()).toBe(2);
    const cells = await episodes.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
    expect(cells[0]?.slice(0, 8)).toEqual([
      'www.facebook.com', 'AS9198 JSC Kazakhtelecom',
      '2020-12-06 04:00 UTC2020-12-06 10:00 (UTC+06:00)', '2020-12-06 08:00 UTC2020-12-06 14:00 (UTC+06:00)',
      'sni_reset', '3', '36', '88 %',
    ]);
    expect(cells[1]?.slice(0, 5)).toEqual([
      'www.instagram.com', 'AS9198 JSC Kazakhtelecom',
      '2020-12-06 04:00 UTC2020-12-06 10:00 (UTC+06:00)', '2020-12-06 08:00 UTC2020-12-06 14:00 (UTC+06:00)',
      'http_blockpage',
    ]);
    const sentence = await page.locator('#episodes tbody tr.episode-summary').first().textContent();
    expect(sentence).toBe('On 6 December 2020, from 10:00 to 14:00 Asia/Almaty time (04:00–08:00 UTC), www.facebook.com showed signs of blocking (not confirmed by a blockpage or an interception certificate) on AS9198 JSC Kazakhtelecom (sni_reset); 3 probes, 36 measurements, 35 of them anomalous.');
    expect(await page.locator('#episodes tbody tr.episode-summary').nth(1).textContent()).toContain('www.instagram.com was blocked on AS9198 JSC Kazakhtelecom (http_blockpage)');

    // The evidence link and its exports return the measurements counted, and only anomalous ones.
    for (let k = 0; k < 2; k += 1) {
      const row = episodes.nth(k);
      const counted = Number(((await row.locator('a.evidence-api').textContent()) ?? '').replace(/\D/g, ''));
      const api = await row.locator('a.evidence-api').getAttribute('href') ?? '';
      const listed = await (await page.request.get(`${base}${api}&limit=1000`)).json() as { results: { anomaly: boolean; probe_asn: number }[]; next_cursor: string | null };
      expect(listed.next_cursor).toBeNull();
      expect(listed.results).toHaveLength(counted);
      expect(listed.results.every((m) => m.anomaly && m.probe_asn === 9198)).toBe(true);
      const jsonl = await (await page.request.get(`${base}${await row.locator('a.evidence-jsonl').getAttribute('href') ?? ''}`)).text();
      expect(jsonl.trim().split('\n')).toHaveLength(counted);
      const csv = await (await page.request.get(`${base}${await row.locator('a.evidence-csv').getAttribute('href') ?? ''}`)).text();
      expect(csv.trim().split('\n')).toHaveLength(counted + 1);
    }
  });

  it('offers downloads of exactly the view: CSV, JSONL, SVG and PNG', async () => {
    const range = 'since=2020-12-06T00%3A00%3A00.000Z&until=2020-12-07T00%3A00%3A00.000Z';
    expect(await page.getAttribute('#download-csv', 'href')).toBe(`/api/v1/exports/measurements.csv?${range}`);
    expect(await page.getAttribute('#download-jsonl', 'href')).toBe(`/api/v1/exports/measurements.jsonl?${range}`);
    expect(await page.getAttribute('#download-svg', 'href')).toBe(`/api/v1/timeline.svg?${range}&grain=1h&time_zone=Asia%2FAlmaty&lang=en`);
    // Every measurement drawn is in the files, and nothing else.
    const csv = await (await page.request.get(`${base}${await page.getAttribute('#download-csv', 'href') ?? ''}`)).text();
    expect(csv.trim().split('\n')).toHaveLength(seeded.committed + 1);
    const jsonl = await (await page.request.get(`${base}${await page.getAttribute('#download-jsonl', 'href') ?? ''}`)).text();
    expect(jsonl.trim().split('\n')).toHaveLength(seeded.committed);
    expect(await page.textContent('#download-note')).toContain(`the ${seeded.committed.toLocaleString('en')} measurements drawn above`);
    const svg = await page.request.get(`${base}${await page.getAttribute('#download-svg', 'href') ?? ''}`);
    expect(svg.headers()['content-type']).toBe('image/svg+xml; charset=utf-8');
    const svgText = await svg.text();
    expect(svgText.match(/class="cell"/g)).toHaveLength(6 * 24);
    // The browser's own XML parser accepts it.
    expect(await page.evaluate((text) => {
      const { DOMParser } = globalThis as unknown as PageGlobals;
      return new DOMParser().parseFromString(text, 'image/svg+xml').querySelector('parsererror') === null;
    }, svgText)).toBe(true);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-png')]);
    expect(download.suggestedFilename()).toBe('steppe-timeline-20201206T0000Z-20201207T0000Z.png');
    const path = await download.path();
    const png = readFileSync(path);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.readUInt32BE(16)).toBe(2400);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await download.saveAs(SCREENSHOT.replace(/\.png$/, '-download.png'));
  });

  it('has no console errors, no CSP violations and no request outside loopback', async () => {
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.locator('#chart').screenshot({ path: SCREENSHOT.replace(/\.png$/, '-chart.png') });
    expect(problems).toEqual([]);
    expect(outsideRequests).toEqual([]);
  });

  it('keeps the filters in the URL: change → URL → reload → same view, and Back returns', async () => {
    await page.fill('input[name="domain"]', 'www.facebook.com, www.instagram.com');
    await page.fill('input[name="time_zone"]', 'Asia/Aqtobe');
    await page.selectOption('select[name="grain"]', '5m');
    await page.click('button[type="submit"]');
    await settled(page);
    const url = new URL(page.url());
    expect(url.pathname).toBe('/dashboard');
    expect(url.searchParams.get('domain')).toBe('www.facebook.com,www.instagram.com');
    expect(url.searchParams.get('time_zone')).toBe('Asia/Aqtobe');
    expect(url.searchParams.get('grain')).toBe('5m');
    expect(url.searchParams.get('since')).toBe('2020-12-06');
    const check = async (): Promise<void> => {
      expect(await page.getAttribute('#chart', 'data-rows')).toBe('4');
      expect(await page.getAttribute('#chart', 'data-buckets')).toBe('288');
      expect(await page.inputValue('input[name="domain"]')).toBe('www.facebook.com, www.instagram.com');
      expect(await page.inputValue('input[name="time_zone"]')).toBe('Asia/Aqtobe');
      expect(await page.inputValue('select[name="grain"]')).toBe('5m');
      // Almaty time in 2020 was UTC+6, Aqtobe's UTC+5; 5-minute buckets find the onset at 04:00.
      expect(await page.locator('#episodes tbody tr.episode td.time .local').first().textContent()).toBe('2020-12-06 09:00 (UTC+05:00)');
      expect(await page.getAttribute('#download-svg', 'href')).toContain('domain=www.facebook.com%2Cwww.instagram.com');
      expect(await page.getAttribute('#download-csv', 'href')).toBe('/api/v1/exports/measurements.csv?domain=www.facebook.com%2Cwww.instagram.com&since=2020-12-06T00%3A00%3A00.000Z&until=2020-12-07T00%3A00%3A00.000Z');
    };
    await check();
    const permalink = await page.getAttribute('#permalink', 'href');
    await page.reload();
    await settled(page);
    expect(page.url()).toBe(url.href);
    await check();
    // The permalink (range pinned) opens the same view.
    await page.goto(permalink ?? '');
    await settled(page);
    await check();
    await page.goBack();
    await page.goBack();
    expect(page.url()).toBe(`${base}${VIEW}`);
    await expect.poll(() => page.getAttribute('#chart', 'data-rows')).toBe('6');
    expect(await page.inputValue('input[name="domain"]')).toBe('');
  });

  it('shows the API\'s message, naming the parameter, for a bad permalink', async () => {
    await page.goto(`${base}/dashboard?grain=2h`);
    await settled(page);
    expect(await page.locator('#error').isVisible()).toBe(true);
    expect(await page.textContent('#error')).toContain('parameter "grain"');
  });
});
