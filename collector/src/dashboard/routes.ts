import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type Clock, InvalidArgumentError, LANGUAGES } from '@steppe/shared';
import { HttpError, type RequestContext, type Router } from '../http/router.js';
import type { AnalyticsStore, EventStore } from '../store/store.js';
import { DEFAULT_EVENTS_FILE, isTimeZone } from '../timeline/events.js';
import { renderDashboardPage } from './dashboard-page.js';
import { loadEventTexts } from './event-texts.js';
import { requestLanguage } from './page-language.js';
import { DASHBOARD_HEADERS } from './security-headers.js';
import { type StaticFile, loadDashboardFiles, staticText } from './static-files.js';
import { timelineSvgRoute } from './svg-route.js';

/** What the dashboard needs. It reads through the public API; the SVG route reads the store like the API does. */
export interface DashboardDeps {
  readonly store: Pick<AnalyticsStore, 'rollups' | 'probeCounts'> & Pick<EventStore, 'listEvents'>;
  readonly clock: Clock;
  /** The collector's public URL, cited in SVG footers (default: from the Host header). */
  readonly publicUrl?: string;
  /** Zone for local times when the URL names none (default Asia/Almaty). */
  readonly defaultTimeZone?: string;
  /** The events file whose "translations" name events in other languages (default collector/data/events.json). */
  readonly eventsFile?: string;
}

/** A registered route. */
export interface DashboardRoute {
  readonly method: 'GET';
  readonly pattern: string;
}

function conditional(req: IncomingMessage, file: StaticFile): boolean {
  const header = req.headers['if-none-match'];
  return header !== undefined && header.split(',').map((t) => t.trim()).includes(file.etag);
}

function sendFile(ctx: RequestContext, file: StaticFile, cacheControl: string, extra: Readonly<Record<string, string>> = {}): void {
  const headers = { ...DASHBOARD_HEADERS, ...extra, etag: file.etag, 'cache-control': cacheControl };
  if (conditional(ctx.req, file)) {
    ctx.res.writeHead(304, headers);
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, { ...headers, 'content-type': file.contentType, 'content-length': file.body.length });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : file.body);
}

/**
 * Register the dashboard (docs/dashboard.md):
 * - `GET /dashboard`: the page, in the language of `?lang=`, else of
 *   Accept-Language, else English; its state lives in the query string
 *   (permalinks) and it reads only the public API;
 * - `GET /dashboard/assets/{file}`: its ES modules and CSS;
 * - `GET /dashboard/i18n/{file}`: the formatter and the episode sentence,
 *   the shared package's own modules (the collector runs them too);
 * - `GET /dashboard/vendor/{file}`: uPlot and intl-messageformat, served
 *   from node_modules (no CDN);
 * - `GET /api/v1/timeline.svg`: the chart rendered server-side.
 * Files are read now: a missing one fails here, not on a user's request.
 */
export function registerDashboardRoutes(router: Router, deps: DashboardDeps): readonly DashboardRoute[] {
  const defaultTimeZone = deps.defaultTimeZone ?? 'Asia/Almaty';
  if (!isTimeZone(defaultTimeZone)) throw new InvalidArgumentError(`option defaultTimeZone: expected an IANA time zone such as Asia/Almaty, got ${JSON.stringify(defaultTimeZone)}`);
  const files = loadDashboardFiles();
  const eventTexts = loadEventTexts(deps.eventsFile ?? fileURLToPath(DEFAULT_EVENTS_FILE));
  // Every language, with and without ?lang= in the URL, rendered once now.
  const pages = new Map<string, StaticFile>();
  for (const language of LANGUAGES) {
    for (const explicit of [false, true]) {
      const html = renderDashboardPage(files.page, { language, explicit, defaultTimeZone, eventTexts });
      pages.set(`${language}/${explicit}`, staticText(html, 'text/html; charset=utf-8'));
    }
  }
  const routes: DashboardRoute[] = [];
  const add = (pattern: string, handler: (ctx: RequestContext) => Promise<void> | void): void => {
    routes.push({ method: 'GET', pattern });
    router.add('GET', pattern, handler);
  };
  const notFound = (what: string): HttpError => new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no dashboard ${what}`);

  add('/dashboard', (ctx) => {
    const { language, explicit } = requestLanguage(ctx.url, ctx.req.headers);
    const page = pages.get(`${language}/${explicit}`);
    if (page === undefined) throw notFound('page');
    sendFile(ctx, page, 'no-cache', { vary: 'accept-language', 'content-language': language });
  });
  add('/dashboard/assets/:file', (ctx) => {
    const file = files.assets.get(ctx.params['file'] ?? '');
    if (file === undefined) throw notFound(`asset ${JSON.stringify(ctx.params['file'] ?? '')}`);
    sendFile(ctx, file, 'no-cache');
  });
  add('/dashboard/i18n/:file', (ctx) => {
    const file = files.i18n.get(ctx.params['file'] ?? '');
    if (file === undefined) throw notFound(`i18n module ${JSON.stringify(ctx.params['file'] ?? '')}`);
    sendFile(ctx, file, 'no-cache');
  });
  add('/dashboard/vendor/:file', (ctx) => {
    const file = files.vendor.get(ctx.params['file'] ?? '');
    if (file === undefined) throw notFound(`vendor file ${JSON.stringify(ctx.params['file'] ?? '')}`);
    sendFile(ctx, file, 'public, max-age=86400');
  });
  add('/api/v1/timeline.svg', (ctx) => timelineSvgRoute({ ...deps, defaultTimeZone, eventTexts }, ctx));
  return routes;
}
