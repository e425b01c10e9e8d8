import { type Clock, isLanguage, LANGUAGES, negotiateLanguage, translatorFor } from '@steppe/shared';
import { timelineFromUrl } from '../api/analysis-routes.js';
import { integerParam, oneParam } from '../api/params.js';
import { badParameter, type RequestContext } from '../http/router.js';
import type { AnalyticsStore, EventStore } from '../store/store.js';
import { isTimeZone } from '../timeline/events.js';
import { type EventTexts, eventKey } from './event-texts.js';
import { SVG_HEADERS } from './security-headers.js';
import { MAX_SVG_CELLS, renderTimelineSvg } from './timeline-svg.js';

/** Parameters of `GET /api/v1/timeline` (the data behind the chart). */
export const TIMELINE_DATA_PARAMETERS = ['since', 'until', 'grain', 'split', 'domain', 'probe_asn', 'probe_cc', 'category_code', 'source'] as const;
/**
 * Parameters only the SVG takes (presentation). No free-text title: a chart
 * served from the collector's address says only what its data says.
 */
export const TIMELINE_SVG_PARAMETERS = ['time_zone', 'width', 'lang'] as const;

/** What the SVG route reads. */
export interface TimelineSvgDeps {
  readonly store: Pick<AnalyticsStore, 'rollups' | 'probeCounts'> & Pick<EventStore, 'listEvents'>;
  readonly clock: Clock;
  /** The collector's public URL, cited in the footer; default: from the request's Host header. */
  readonly publicUrl?: string;
  /** Zone noted on the axis when the query names none. */
  readonly defaultTimeZone: string;
  /** Event names in other languages (from the events file); none: names as stored. */
  readonly eventTexts?: EventTexts;
}

/** AS number → operator name, from the probes' networks (never finer than ASN). */
export async function networkNames(store: Pick<AnalyticsStore, 'probeCounts'>): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  for (const c of await store.probeCounts(0)) if (c.networkName !== '' && !names.has(c.asn)) names.set(c.asn, c.networkName);
  return names;
}

function baseUrl(deps: TimelineSvgDeps, ctx: RequestContext): string {
  if (deps.publicUrl !== undefined) return deps.publicUrl.replace(/\/+$/, '');
  const host = ctx.req.headers.host ?? '';
  return /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? `http://${host}` : 'http://collector';
}

/**
 * GET /api/v1/timeline.svg: the parameters of GET /api/v1/timeline (split
 * defaults to domain_asn: one row per domain × ASN, as on the dashboard),
 * plus time_zone (local times under the UTC axis), width and lang (the
 * labels' language; default: Accept-Language, else English). Unknown
 * parameters and languages are refused: a typo must not silently change a
 * chart that goes into a report.
 */
export async function timelineSvgRoute(deps: TimelineSvgDeps, ctx: RequestContext): Promise<void> {
  const url = ctx.url;
  const known: ReadonlySet<string> = new Set<string>([...TIMELINE_DATA_PARAMETERS, ...TIMELINE_SVG_PARAMETERS]);
  for (const name of url.searchParams.keys()) {
    if (!known.has(name)) throw badParameter(name, `no such parameter (known: ${[...known].join(', ')})`, url.searchParams.get(name));
  }
  const now = deps.clock.now();
  const timeZone = oneParam(url, 'time_zone') ?? deps.defaultTimeZone;
  if (!isTimeZone(timeZone)) throw badParameter('time_zone', 'an IANA time zone such as Asia/Almaty', timeZone);
  const width = integerParam(url, 'width', 480, 4000);
  const lang = oneParam(url, 'lang');
  if (lang !== undefined && !isLanguage(lang)) throw badParameter('lang', `one of ${LANGUAGES.join(', ')}`, lang);
  const accept = ctx.req.headers['accept-language'];
  const language = lang ?? negotiateLanguage(Array.isArray(accept) ? accept.join(',') : accept);
  const texts = deps.eventTexts?.get(language);
  const timeline = await timelineFromUrl(deps.store, url, now, 'domain_asn');
  const grain = timeline.grain;
  const cells = timeline.series.reduce((n, s) => n + s.buckets.length, 0);
  if (cells > MAX_SVG_CELLS) {
    throw badParameter('grain', `a coarser grain, a shorter range or fewer domains/ASNs (the chart would have ${cells} cells, at most ${MAX_SVG_CELLS})`, grain);
  }

  // The footer cites the JSON query that returns exactly the data drawn.
  const dataQuery = new URLSearchParams();
  for (const [name, value] of url.searchParams) if ((TIMELINE_DATA_PARAMETERS as readonly string[]).includes(name)) dataQuery.append(name, value);
  dataQuery.set('since', new Date(timeline.since).toISOString());
  dataQuery.set('until', new Date(timeline.until).toISOString());
  dataQuery.set('grain', grain);
  dataQuery.set('split', timeline.split);
  const svg = renderTimelineSvg({
    ...timeline,
    events: (await deps.store.listEvents({ since: timeline.since, until: timeline.until }))
      .map((e) => ({ ...e, name: texts?.get(eventKey(e.name, e.startMs))?.name ?? e.name })),
    networkNames: await networkNames(deps.store),
  }, {
    generatedMs: now,
    timeZone,
    translator: translatorFor(language, 'collector'),
    source: `${baseUrl(deps, ctx)}/api/v1/timeline?${dataQuery.toString()}`,
    ...(width === undefined ? {} : { width }),
  });
  ctx.res.writeHead(200, {
    ...SVG_HEADERS,
    'content-type': 'image/svg+xml; charset=utf-8',
    'content-length': Buffer.byteLength(svg),
    'content-disposition': 'inline; filename="steppe-timeline.svg"',
    'cache-control': 'no-cache',
    'content-language': language,
    vary: 'accept-language',
  });
  ctx.res.end(svg);
}
