// The dashboard page: reads its view from the query string, fetches the
// public API, draws the heat strip, the tables and the download links, and
// keeps the URL in step with the filters so every view is a permalink.
import { ApiError, fetchEpisodes, fetchEvents, fetchNetworkNames, fetchTimeline } from './api.js';
import { chartFileName, downloadPng, updateDownloadLinks } from './downloads.js';
import { h, renderEpisodes } from './episodes.js';
import { episodesQuery, fillForm, filtersFromForm, filtersFromSearch, pageQuery, svgQuery, timelineQuery } from './filters.js';
import { drawHeatStrip, stripRows } from './heat-strip.js';
import { eventText, tr } from './i18n.js';
import { isTimeZone, localText, utcText } from '../i18n/time-text.js';
import { LANGUAGES } from '../i18n/languages.js';

/**
 * @typedef {import('./filters.js').Filters} Filters
 * @typedef {import('./api.js').ApiTimeline} ApiTimeline
 * @typedef {import('./api.js').ApiEvent} ApiEvent
 */

const GRAIN_MS = { '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: never[]) => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page element #${id} is missing`);
  return el;
}

const defaultTimeZone = document.querySelector('meta[name="steppe-default-time-zone"]')?.getAttribute('content') ?? 'UTC';
const form = byId('filters', HTMLFormElement);
const chart = byId('chart', HTMLDivElement);
const status = byId('status', HTMLParagraphElement);
const errorBox = byId('error', HTMLDivElement);
const readout = byId('readout', HTMLParagraphElement);
const pngButton = byId('download-png', HTMLButtonElement);

/** @type {import('../vendor/uPlot.esm.js').default | undefined} */
let plot;
/** @type {AbortController | undefined} */
let inFlight;
/** @type {{filters: Filters, range: {since: string, until: string}} | undefined} */
let shown;
/** @type {Promise<Map<number, string>> | undefined} */
let namesOnce;
/** @type {Promise<ApiEvent[]> | undefined} */
let eventsOnce;

/** @param {string} message */
function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = '';
  errorBox.hidden = true;
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {import('./heat-strip.js').StripRow[]} rows
 */
function renderSummary(tbody, rows) {
  tbody.replaceChildren();
  for (const row of rows) {
    /** @type {Record<string, number>} */
    const states = { accessible: 0, anomaly: 0, confirmed: 0, no_data: 0 };
    let measurements = 0;
    let anomalies = 0;
    for (const b of row.buckets) {
      states[b.state] = (states[b.state] ?? 0) + 1;
      measurements += b.measurements;
      anomalies += b.anomalies;
    }
    const cells = ['accessible', 'anomaly', 'confirmed', 'no_data'].map((s) => h('td', { class: 'num', 'data-state': s }, [tr.number(states[s] ?? 0)]));
    tbody.append(h('tr', { class: 'strip', 'data-domain': row.domain ?? '', 'data-asn': String(row.asn ?? '') }, [
      h('th', { scope: 'row' }, [row.label]),
      ...cells,
      h('td', { class: 'num' }, [tr.number(measurements)]),
      h('td', { class: 'num' }, [tr.number(anomalies)]),
    ]));
  }
}

/**
 * @param {ApiEvent[]} events
 * @param {Filters} f
 */
function renderEvents(events, f) {
  const list = byId('events', HTMLUListElement);
  list.replaceChildren();
  if (events.length === 0) list.append(h('li', {}, [tr.t('events.none')]));
  for (const e of events) {
    const start = Date.parse(e.start);
    const end = e.end === null ? null : Date.parse(e.end);
    // A view around the event: from 12 h before its start to 36 h after (or its end).
    const viewUntil = Math.min(end === null ? start + 36 * 3_600_000 : end + 12 * 3_600_000, start + 31 * 86_400_000);
    const view = pageQuery({ ...f, time_zone: e.time_zone, grain: f.grain === '1d' ? '1h' : f.grain }, {
      since: new Date(start - 12 * 3_600_000).toISOString(),
      until: new Date(viewUntil).toISOString(),
    });
    const text = eventText(e);
    const item = h('li', { class: 'event' }, [
      h('strong', {}, [text.name]),
      tr.t('events.starts', { local: localText(start, e.time_zone), utc: utcText(start) }),
      end === null ? tr.t('events.noEnd') : tr.t('events.ends', { local: localText(end, e.time_zone), utc: utcText(end) }),
      '. ',
      h('a', { href: `/dashboard?${view}` }, [tr.t('events.show')]),
    ]);
    if (e.source_url !== null) item.append(' · ', h('a', { href: e.source_url, rel: 'noopener noreferrer external' }, [tr.t('events.source')]));
    if (text.description !== '') item.append(h('details', {}, [h('summary', {}, [tr.t('events.description')]), h('p', {}, [text.description])]));
    list.append(item);
  }
}

/**
 * Point the language switcher at this view in each language: the choice
 * is then named in the URL (?lang=), so it survives navigation and goes
 * into permalinks.
 * @param {Filters} f
 * @param {{since?: string, until?: string}} [range]
 */
function updateLanguageLinks(f, range) {
  for (const language of LANGUAGES) {
    const a = document.querySelector(`nav.languages a[hreflang="${language}"]`);
    if (a instanceof HTMLAnchorElement) a.href = `/dashboard?${pageQuery({ ...f, lang: language }, range)}`;
  }
}

/**
 * Load and draw a view.
 * @param {Filters} f
 */
async function load(f) {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const { signal } = controller;
  clearError();
  status.textContent = tr.t('status.loading');
  document.body.setAttribute('aria-busy', 'true');
  try {
    if (!isTimeZone(f.time_zone)) throw new ApiError(400, tr.t('error.timeZone', { zone: f.time_zone }));
    // Names and events do not depend on the filters: fetched once, not tied to this view's abort.
    namesOnce ??= fetchNetworkNames(AbortSignal.timeout(30_000)).catch(() => new Map());
    eventsOnce ??= fetchEvents(AbortSignal.timeout(30_000)).catch((err) => {
      eventsOnce = undefined;
      throw err;
    });
    const timeline = await fetchTimeline(timelineQuery(f), signal);
    const range = { since: timeline.since, until: timeline.until };
    const [episodes, names, events] = await Promise.all([fetchEpisodes(episodesQuery(f, range), signal), namesOnce, eventsOnce]);
    if (signal.aborted) return;

    const since = Date.parse(timeline.since);
    const until = Date.parse(timeline.until);
    const rows = stripRows(timeline, names);
    plot?.destroy();
    chart.replaceChildren();
    const shownEvents = events.filter((e) => Date.parse(e.start) < until && (e.end === null || Date.parse(e.end) > since));
    plot = drawHeatStrip(chart, {
      since,
      until,
      grainMs: GRAIN_MS[f.grain] ?? 3_600_000,
      rows,
      events: shownEvents.map((e) => ({ name: eventText(e).name, startMs: Date.parse(e.start), endMs: e.end === null ? null : Date.parse(e.end), timeZone: e.time_zone })),
      timeZone: f.time_zone,
    }, (text) => { readout.textContent = text; });
    chart.dataset['rows'] = String(rows.length);
    chart.dataset['buckets'] = String(rows[0]?.buckets.length ?? 0);

    const measurements = rows.reduce((n, r) => n + r.buckets.reduce((m, b) => m + b.measurements, 0), 0);
    byId('chart-range', HTMLParagraphElement).textContent = tr.t('chart.range', {
      utcFrom: utcText(since), utcTo: utcText(until), localFrom: localText(since, f.time_zone), localTo: localText(until, f.time_zone), strips: rows.length, measurements,
    });
    renderSummary(byId('strip-summary', HTMLTableElement).tBodies[0] ?? h('tbody'), rows);
    renderEpisodes(byId('episodes', HTMLTableElement).tBodies[0] ?? h('tbody'), episodes, f.time_zone, names);
    byId('episodes-empty', HTMLParagraphElement).hidden = episodes.length > 0;
    renderEvents(events, f);

    updateDownloadLinks(f, range);
    byId('download-note', HTMLParagraphElement).textContent = tr.t('downloads.note', { count: measurements, from: utcText(since), to: utcText(until) });
    byId('api-timeline', HTMLAnchorElement).href = `/api/v1/timeline?${timelineQuery({ ...f, since: range.since, until: range.until })}`;
    const permalink = `${location.origin}/dashboard?${pageQuery(f, range)}`;
    const link = byId('permalink', HTMLAnchorElement);
    link.href = permalink;
    link.textContent = permalink;
    updateLanguageLinks(f, range);
    shown = { filters: f, range };
    status.textContent = rows.length === 0 ? tr.t('status.empty') : tr.t('status.showing', { strips: rows.length, episodes: episodes.length });
  } catch (err) {
    if (signal.aborted) return;
    status.textContent = '';
    showError(err instanceof ApiError ? tr.t('error.refused', { message: err.message }) : tr.t('error.load', { message: err instanceof Error ? err.message : String(err) }));
  } finally {
    if (inFlight === controller) document.body.removeAttribute('aria-busy');
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const f = filtersFromForm(form, defaultTimeZone);
  const query = pageQuery(f);
  // A new history entry per view: Back returns to the previous one.
  if (`?${query}` !== location.search) history.pushState(null, '', `/dashboard?${query}`);
  void load(f);
});

window.addEventListener('popstate', () => {
  const f = filtersFromSearch(location.search, defaultTimeZone);
  fillForm(form, f);
  void load(f);
});

pngButton.addEventListener('click', () => {
  if (shown === undefined) return;
  pngButton.disabled = true;
  downloadPng(`/api/v1/timeline.svg?${svgQuery(shown.filters, shown.range, tr.language)}`, chartFileName(shown.range))
    .catch((err) => showError(tr.t('error.png', { message: err instanceof Error ? err.message : String(err) })))
    .finally(() => { pngButton.disabled = false; });
});

// Follow the window's width.
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    if (plot !== undefined) plot.setSize({ width: Math.max(480, chart.clientWidth), height: plot.height });
  }, 150);
});

const initial = filtersFromSearch(location.search, defaultTimeZone);
fillForm(form, initial);
updateLanguageLinks(initial);
void load(initial);
