import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@steppe/shared';
import { registerApiRoutes } from '../../collector/src/api/routes.js';
import { registerDashboardRoutes } from '../../collector/src/dashboard/routes.js';
import { type Listening, listenRouter } from '../../collector/src/http/listen.js';
import { Router } from '../../collector/src/http/router.js';
import { openSqliteStore, type SqliteStore } from '../../collector/src/store/sqlite-store.js';
import { seedEventsFromFile } from '../../collector/src/timeline/events.js';
import { DAY_MS, seedDashboardDay } from './seed.js';

/**
 * The dashboard in Kazakh and Russian in headless Chromium (as
 * dashboard.test.ts sets it up): text, <html lang>, the episode sentence,
 * the language kept across navigation, Accept-Language, and the glyphs of
 * Kazakh Cyrillic drawn by a font of the page's stack. Screenshots land in
 * test-results/dashboard-kk.png and dashboard-ru.png.
 */
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const VIEW = 'since=2020-12-06&until=2020-12-07&grain=1h&time_zone=Asia/Almaty';

let store: SqliteStore;
let listening: Listening;
let base = '';
let userDataDir = '';
let context: BrowserContext;
const problems: string[] = [];
const outside: string[] = [];

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  store = await openSqliteStore(':memory:');
  await seedEventsFromFile(store, DAY_MS);
  await seedDashboardDay(store);
  const clock = new ManualClock(DAY_MS + 86_400_000);
  const router = new Router();
  registerApiRoutes(router, { store, clock });
  registerDashboardRoutes(router, { store, clock });
  listening = await listenRouter(router, '127.0.0.1', 0);
  base = listening.url;
  userDataDir = mkdtempSync(join(tmpdir(), 'steppe-chromium-i18n-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    timezoneId: 'America/New_York',
    locale: 'ru-RU',
  });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    outside.push(url.href);
    return route.abort('blockedbyclient');
  });
}, 120_000);

afterAll(async () => {
  if (!HAVE_CHROMIUM) return;
  await context?.close();
  if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
  await listening.close();
  await store.close();
});

interface PageGlobals { document: { body: { getAttribute(name: string): string | null; dataset: Record<string, string | undefined> }; getElementById(id: string): { textContent: string | null } | null } }

async function open(path: string): Promise<import('playwright-core').Page> {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${base}${path}`);
  // Drawn: the status names what is shown (or an error), no request in flight.
  await page.waitForFunction(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return document.body.getAttribute('aria-busy') === null && /\d/.test(document.getElementById('status')?.textContent ?? '');
  });
  return page;
}

describe.skipIf(!HAVE_CHROMIUM)('the dashboard in Kazakh and Russian', () => {
  it('?lang=kk: Kazakh text, <html lang="kk">, the episode sentence, Kazakh glyphs drawn by a font of the stack', async () => {
    const page = await open(`/dashboard?${VIEW}&lang=kk`);
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    expect(await page.title()).toBe('Steppe · интернет-бұғаттаулар хронологиясы');
    expect(await page.textContent('#filters-heading')).toBe('Не көрсету керек');
    expect(await page.textContent('#status')).toBe('Көрсетілгені: 6 жолақ және 2 эпизод.');
    // Numbers grouped as in Kazakhstan (Russian data stands in where the browser lacks Kazakh).
    expect(await page.textContent('#chart-range')).toContain('1\u00a0026 өлшеу');
    expect(await page.textContent('#episodes thead')).toContain('Бұғаттау түрі');
    expect(await page.textContent('.legend')).toContain('Расталған бұғаттау');
    expect(await page.locator('#episodes tbody tr.episode-summary').first().textContent()).toBe(
      '2020 ж. 6 желтоқсан күні Asia/Almaty уақытымен 10:00–14:00 аралығында (UTC бойынша 04:00–08:00) AS9198 JSC Kazakhtelecom желісінде www.facebook.com сайтында бұғаттау белгілері байқалды (бұғаттау бетімен немесе ұстап алу сертификатымен расталмаған) (sni_reset); 3 зонд, 36 өлшеу, оның ішінде 35 аномалды өлшеу.',
    );
    // The event's name and description from the events file's Kazakh translation.
    expect(await page.textContent('#events')).toContain('«Киберқауіпсіздік Нұр-Сұлтан 2020» оқу-жаттығуы');
    // The downloads are in Kazakh too: the SVG's labels and the PNG's name.
    const svgHref = await page.getAttribute('#download-svg', 'href') ?? '';
    expect(svgHref).toContain('lang=kk');
    expect(await page.getAttribute('#download-svg', 'download')).toBe('steppe-хронология-20201206T0000Z-20201207T0000Z.svg');
    const svg = await (await page.request.get(`${base}${svgHref}`)).text();
    expect(svg).toContain('Бұғаттаулар хронологиясы, 06 жел. 2020 00:00');
    expect(svg).toContain('>Қолжетімді<');
    // Every Kazakh letter is drawn by a font named in the page's stack, none by a fallback.
    const cdp = await context.newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#episodes-heading' });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    const stack = ['Segoe UI', 'Noto Sans', 'Roboto', 'PT Sans', 'DejaVu Sans', 'Arial'];
    expect(fonts.length).toBeGreaterThan(0);
    for (const f of fonts) expect(stack, f.familyName).toContain(f.familyName);
    await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const heading = document.getElementById('episodes-heading');
      if (heading !== null) heading.textContent = 'Бұғаттау эпизодтары · ә ғ қ ң ө ұ ү һ і · Ә Ғ Қ Ң Ө Ұ Ү Һ І';
    });
    const glyphs = (await cdp.send('CSS.getPlatformFontsForNode', { nodeId })).fonts;
    for (const f of glyphs) expect(stack, f.familyName).toContain(f.familyName);
    mkdirSync(dirname(`${RESULTS}x`), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${RESULTS}dashboard-kk.png`, fullPage: true });
    await page.close();
  });

  it('Accept-Language: ru serves Russian, keeps the language across navigation, and lets the switcher change it', async () => {
    // The context's locale is ru-RU: the browser sends Accept-Language: ru-RU,ru.
    const page = await open(`/dashboard?${VIEW}`);
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.textContent('h1')).toBe('Steppe · хронология интернет-блокировок');
    expect(await page.textContent('#status')).toBe('Показано: 6 полос и 2 эпизода.');
    expect(await page.textContent('#strip-summary thead')).toContain('Подтверждено');
    expect(await page.locator('#episodes tbody tr.episode-summary').nth(1).textContent()).toContain('сайт www.instagram.com был заблокирован в сети AS9198 JSC Kazakhtelecom (http_blockpage); 3 зонда');
    // Chosen by the browser, not the URL: permalinks carry no lang.
    expect(await page.getAttribute('#permalink', 'href')).not.toContain('lang=');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: `${RESULTS}dashboard-ru.png`, fullPage: true });

    // The switcher names the language in the URL, with the same view; a new query keeps it.
    await page.click('nav.languages a[hreflang="kk"]');
    await page.waitForFunction(() => /\d/.test((globalThis as unknown as PageGlobals).document.getElementById('status')?.textContent ?? ''));
    expect(new URL(page.url()).searchParams.get('lang')).toBe('kk');
    expect(new URL(page.url()).searchParams.get('time_zone')).toBe('Asia/Almaty');
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    await page.selectOption('select[name="grain"]', '5m');
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.body.getAttribute('aria-busy') === null);
    expect(new URL(page.url()).searchParams.get('lang')).toBe('kk');
    expect(await page.getAttribute('#permalink', 'href')).toContain('lang=kk');
    await page.reload();
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    await page.close();
    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
  });

  it('answers Accept-Language over HTTP: ru → Russian page and SVG; ?lang wins; unknown lang on the SVG is a 400', async () => {
    const ru = await fetch(`${base}/dashboard`, { headers: { 'accept-language': 'ru' } });
    expect(ru.headers.get('content-language')).toBe('ru');
    expect(ru.headers.get('vary')).toContain('accept-language');
    const html = await ru.text();
    expect(html).toContain('<html lang="ru">');
    expect(html).toContain('Хронология');
    expect(await (await fetch(`${base}/dashboard?lang=en`, { headers: { 'accept-language': 'ru' } })).text()).toContain('<html lang="en">');
    const svg = await (await fetch(`${base}/api/v1/timeline.svg?${VIEW}`, { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } })).text();
    expect(svg).toContain('Хронология блокировок, 06 дек. 2020 00:00');
    expect(svg).toContain('Учения «Кибербезопасность Нур-Султан 2020»');
    expect((await fetch(`${base}/api/v1/timeline.svg?${VIEW}&lang=de`)).status).toBe(400);
  });
});
