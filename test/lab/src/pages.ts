import type { LabSiteSpec } from './sites.js';

/**
 * The lab's web pages. They are deterministic (the same bytes for every
 * visitor and every request), so the probe's and the control's views of an
 * honest site compare equal, and real-looking enough (a title, headings,
 * paragraphs, a few hundred words) for body-proportion and title checks.
 */

/**
 * A marker only the lab's blockpage carries; the lab's HTTP fingerprint
 * (fingerprints_http.csv format) matches it.
 */
export const BLOCKPAGE_MARKER = 'steppe-lab-blockpage';

/**
 * Text of the blockpage. "Страница заблокирована" is the pattern of OONI's
 * `cp.d_corp_kz_ps` fingerprint (the only Kazakh-named row of
 * fingerprints_http.csv), so OONI's own list recognises the lab blockpage too.
 */
export const BLOCKPAGE_TEXT = 'Страница заблокирована';

const PARAGRAPHS = [
  'The steppe stretches for thousands of kilometres, and so does the conversation that happens on it: families in Almaty, students in Karaganda and shepherds near Shymkent share news, photographs and plans for the weekend.',
  'Readers write to us every day about the roads, the price of bread, the winter heating season and the schools their children attend. We read every letter and answer as many as we can.',
  'Our correspondents travelled to Aktobe and Atyrau to talk with workers about wages and safety, and with local officials about the budget for the coming year.',
  'Photographs from the mountains above the city show the first snow of the season; the ski lifts open next week if the weather holds.',
  'A new library opened in the district centre, with a reading room for children, a collection of Kazakh and Russian literature and free computer classes for pensioners.',
  'Economists expect the tenge to remain stable through the holidays; importers say the prices of electronics and cars will follow the exchange rate as usual.',
];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function document(title: string, body: string, lang: string): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${lang}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="stylesheet" href="/static/site.css">',
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Pad `html` with deterministic articles before `</body>` until it is about `bytes` long. */
function padTo(html: string, bytes: number, domain: string): string {
  const parts: string[] = [];
  let size = Buffer.byteLength(html);
  for (let i = 0; size < bytes; i += 1) {
    const paragraph = PARAGRAPHS[i % PARAGRAPHS.length] ?? '';
    const article = `<article id="story-${i + 1}"><h2>Story ${i + 1} on ${escapeHtml(domain)}</h2><p>${escapeHtml(paragraph)}</p></article>\n`;
    parts.push(article);
    size += Buffer.byteLength(article);
  }
  return html.replace('</body>', `${parts.join('')}</body>`);
}

/** The home page of a normal site, about `bytes` long (never shorter than its fixed part). */
export function homePage(site: LabSiteSpec, bytes: number): string {
  const lang = /[а-яё]/i.test(site.title) ? 'ru' : 'en';
  const body = [
    '<header>',
    `<a class="logo" href="/">${escapeHtml(site.domain)}</a>`,
    '<nav><a href="/">Home</a> <a href="/about">About</a> <a href="/login">Log in</a></nav>',
    '</header>',
    '<main>',
    `<h1>${escapeHtml(site.title)}</h1>`,
    `<p class="tagline">${escapeHtml(site.tagline)}</p>`,
    '<form action="/login" method="post"><input name="email" placeholder="Email or phone number"><input name="pass" type="password" placeholder="Password"><button type="submit">Log in</button></form>',
    '</main>',
    `<footer>&copy; 2020 ${escapeHtml(site.organization)}</footer>`,
  ].join('\n');
  return padTo(document(site.title, body, lang), bytes, site.domain);
}

/** A 404 page of a normal site. */
export function notFoundPage(site: LabSiteSpec): string {
  return document(`Page not found | ${site.title}`, `<h1>Page not found</h1>\n<p>The link you followed may be broken, or the page may have been removed. <a href="/">Go back to ${escapeHtml(site.domain)}</a>.</p>`, 'en');
}

/**
 * The censor's blockpage (served with status 200 by a blocking middlebox, or
 * by the blockpage host after a 302). `blockedHost` is echoed like real
 * blockpages do.
 */
export function blockPage(blockedHost: string | undefined): string {
  const what = blockedHost === undefined ? '' : `<p class="resource">Ресурс: ${escapeHtml(blockedHost)}</p>`;
  const body = [
    `<div class="${BLOCKPAGE_MARKER}">`,
    `<h1>${BLOCKPAGE_TEXT}</h1>`,
    what,
    '<p>Доступ к данному интернет-ресурсу ограничен в соответствии с законодательством Республики Казахстан.</p>',
    '<p>Access to this Internet resource has been restricted in accordance with the legislation of the Republic of Kazakhstan.</p>',
    `<!-- ${BLOCKPAGE_MARKER} -->`,
    '</div>',
  ].join('\n');
  return document('Доступ ограничен', body, 'ru');
}

/**
 * A CDN's challenge page, after the shape of Cloudflare's JavaScript
 * challenge (title "Just a moment...", the `window._cf_chl_opt` options of
 * its script): what the lab's CDN-fronted site sends in-country visitors.
 */
export function challengePage(host: string, rayId: string): string {
  const body = [
    '<noscript><h1>Please turn JavaScript on and reload the page.</h1></noscript>',
    `<h1>Checking your browser before accessing ${escapeHtml(host)}.</h1>`,
    '<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>',
    `<script>window._cf_chl_opt = { cvId: "3", cType: "managed", cRay: "${rayId}" };</script>`,
    `<p class="ray_id">Ray ID: <code>${rayId}</code></p>`,
  ].join('\n');
  return document('Just a moment...', body, 'en');
}

/** Deterministic bytes of a large static resource (for throughput measurements). */
export function largeResource(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  // A cheap linear congruential generator: incompressible-looking, reproducible.
  let x = 0x2545f491;
  for (let i = 0; i < bytes; i += 1) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
