import { InvalidArgumentError, rowLabel, stateLabel, translatorFor, type Translator } from '@steppe/shared';
import { isTimeZone } from '../timeline/events.js';
import type { BucketState } from '../timeline/timeline.js';
import { CHART_FONT, EVENT_FILL, NO_DATA_HATCH, STATE_STYLES, stateStyle } from './chart-style.js';
import { dateTime, tickLabel, timeTicks, zoneOffset } from './time-axis.js';
import { xmlAttributes, xmlEscape } from './xml-text.js';

/**
 * The heat-strip timeline as a standalone SVG document, for embedding in
 * reports: one row per (domain, ASN), one cell per bucket coloured by state
 * (no data hatched), curated events shaded over the time axis, UTC ticks with
 * the local zone noted, a legend, a title and a footer that cites the query
 * and the generation time. A pure function: same data and options, same bytes.
 *
 * Every text from data is escaped (xml-text.ts); only presentation
 * attributes are used (no <style>, no script), so the file renders the same
 * in browsers, Inkscape and office suites and is safe to open directly.
 */

/** One bucket, as in `GET /api/v1/timeline` (times in Unix ms). */
export interface TimelineSvgBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly state: BucketState;
  readonly measurements: number;
  readonly anomalies: number;
  readonly confirmed: number;
}

/** One row; null domain/ASN when the timeline is not split by it. */
export interface TimelineSvgSeries {
  readonly domain: string | null;
  readonly asn: number | null;
  readonly buckets: readonly TimelineSvgBucket[];
}

/** A curated event to shade; an open end runs to the end of the chart. */
export interface TimelineSvgEvent {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number | null;
  readonly timeZone: string;
}

/** What to draw: a timeline (buildTimeline's result fits), events, network names. */
export interface TimelineSvgData {
  readonly since: number;
  readonly until: number;
  readonly grain: string;
  readonly series: readonly TimelineSvgSeries[];
  readonly events: readonly TimelineSvgEvent[];
  /** AS number → operator name, for row labels. */
  readonly networkNames?: ReadonlyMap<number, string>;
}

/** Options of `renderTimelineSvg`. */
export interface TimelineSvgOptions {
  /** When the chart was made (from the collector's clock), printed in the footer. */
  readonly generatedMs: number;
  /** IANA zone noted on the axis (local times under the UTC ticks); default UTC. */
  readonly timeZone?: string;
  /** Default: "Blocking timeline, <range> (UTC)". */
  readonly title?: string;
  /** The collector URL and query the data came from, cited in the footer. */
  readonly source?: string;
  /** Width in px (480 to 4000; default 1200). */
  readonly width?: number;
  /** Prefix of element ids, so several charts can be inlined in one page (default "steppe"). */
  readonly idPrefix?: string;
  /** The language of the labels (default: English); month names follow its locale. */
  readonly translator?: Translator;
}

/** Most cells one SVG draws (rows × buckets); beyond, narrow the filters or use a coarser grain. */
export const MAX_SVG_CELLS = 50_000;

/** Rough advance of one character at 12 px, for layout without font metrics. */
const CHAR_PX = 6.6;
const MAX_LABEL_CHARS = 64;
const MARGIN = 16;
const ROW_HEIGHT = 18;
const ROW_GAP = 3;
const EVENT_TRACK_HEIGHT = 20;

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function checkOptions(data: TimelineSvgData, options: TimelineSvgOptions): { width: number; timeZone: string; prefix: string } {
  if (!Number.isSafeInteger(data.since) || !Number.isSafeInteger(data.until) || data.until <= data.since) {
    throw new InvalidArgumentError(`data.since/until: expected since < until, got ${data.since} and ${data.until}`);
  }
  if (!Number.isSafeInteger(options.generatedMs)) throw new InvalidArgumentError('option generatedMs: expected Unix milliseconds');
  const width = options.width ?? 1200;
  if (!Number.isInteger(width) || width < 480 || width > 4000) throw new InvalidArgumentError(`option width: expected an integer from 480 to 4000, got ${width}`);
  const timeZone = options.timeZone ?? 'UTC';
  if (!isTimeZone(timeZone)) throw new InvalidArgumentError(`option timeZone: expected an IANA time zone such as Asia/Almaty, got ${JSON.stringify(timeZone)}`);
  const prefix = options.idPrefix ?? 'steppe';
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(prefix)) throw new InvalidArgumentError(`option idPrefix: expected a letter then up to 31 letters, digits, "_" or "-", got ${JSON.stringify(prefix)}`);
  const cells = data.series.reduce((n, s) => n + s.buckets.length, 0);
  if (cells > MAX_SVG_CELLS) throw new InvalidArgumentError(`data: ${cells} cells is more than ${MAX_SVG_CELLS}; narrow the filters or use a coarser grain`);
  return { width, timeZone, prefix };
}

/** Split a long citation into lines of at most `max` characters, preferring breaks after "&", "?" or ",". */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    const cut = Math.max(window.lastIndexOf('&'), window.lastIndexOf('?'), window.lastIndexOf(','), window.lastIndexOf(' '));
    const at = cut > max / 2 ? cut + 1 : max;
    lines.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  lines.push(rest);
  return lines;
}

/** Render the chart; throws InvalidArgumentError naming a bad option or too many cells. */
export function renderTimelineSvg(data: TimelineSvgData, options: TimelineSvgOptions): string {
  const { width, timeZone, prefix } = checkOptions(data, options);
  const tr = options.translator ?? translatorFor('en', 'collector');
  const locale = tr.locale;
  const { since, until } = data;
  const span = until - since;
  const labels = data.series.map((s) => rowLabel(tr, s.domain, s.asn, data.networkNames));
  const longest = Math.max(12, ...labels.map((l) => Math.min([...l].length, MAX_LABEL_CHARS)));
  const labelWidth = Math.min(460, Math.max(140, Math.round(longest * CHAR_PX + 16)));
  const plotLeft = MARGIN + labelWidth;
  const plotRight = width - MARGIN;
  const plotWidth = plotRight - plotLeft;
  const xOf = (ms: number): number => plotLeft + ((Math.min(Math.max(ms, since), until) - since) / span) * plotWidth;
  const id = (name: string): string => `${prefix}-${name}`;
  const out: string[] = [];
  const measurements = data.series.reduce((n, s) => n + s.buckets.reduce((m, b) => m + b.measurements, 0), 0);
  const localZone = timeZone !== 'UTC' && timeZone !== 'Etc/UTC';

  // Header: title, what the chart covers, legend.
  const rangeText = `${dateTime(since, 'UTC', locale)} – ${dateTime(until, 'UTC', locale)} UTC`;
  const title = options.title ?? tr.t('chart.title', { range: rangeText });
  const subtitle = tr.t('chart.subtitle', { grain: data.grain, rows: data.series.length, measurements, local: localZone ? 'yes' : 'no', zone: timeZone });
  out.push(`<text${xmlAttributes({ x: MARGIN, y: 30, 'font-size': 18, 'font-weight': 'bold', fill: '#111111' })}>${xmlEscape(title)}</text>`);
  out.push(`<text${xmlAttributes({ x: MARGIN, y: 50, 'font-size': 13, fill: '#444444' })}>${xmlEscape(`${rangeText} · ${subtitle}`)}</text>`);
  let lx = MARGIN;
  const legendY = 66;
  out.push(`<g class="legend"${xmlAttributes({ 'font-size': 12, fill: '#222222' })}>`);
  for (const s of STATE_STYLES) {
    const fill = s.state === 'no_data' ? `url(#${id('no-data')})` : s.fill;
    out.push(`<rect${xmlAttributes({ class: 'legend-swatch', 'data-state': s.state, x: lx, y: legendY, width: 14, height: 14, fill, stroke: '#666666', 'stroke-width': 0.5 })}/>`);
    const label = stateLabel(tr, s.state);
    out.push(`<text${xmlAttributes({ x: lx + 19, y: legendY + 11.5 })}>${xmlEscape(label)}</text>`);
    lx += 19 + label.length * CHAR_PX + 18;
  }
  out.push(`<rect${xmlAttributes({ x: lx, y: legendY, width: 14, height: 14, fill: EVENT_FILL, 'fill-opacity': 0.35 })}/>`);
  out.push(`<text${xmlAttributes({ x: lx + 19, y: legendY + 11.5 })}>${xmlEscape(tr.t('legend.event'))}</text>`);
  out.push('</g>');

  // Events track, then one strip per row.
  const trackTop = 92;
  const rowsTop = trackTop + EVENT_TRACK_HEIGHT + 6;
  const rowsHeight = Math.max(1, data.series.length) * (ROW_HEIGHT + ROW_GAP) - ROW_GAP;
  const rowsBottom = rowsTop + rowsHeight;
  out.push(`<text${xmlAttributes({ x: plotLeft - 8, y: trackTop + 14, 'font-size': 12, 'text-anchor': 'end', fill: '#444444' })}>${xmlEscape(tr.t('chart.events'))}</text>`);
  out.push(`<rect${xmlAttributes({ x: plotLeft, y: trackTop, width: plotWidth, height: EVENT_TRACK_HEIGHT, fill: '#f7f7f7' })}/>`);

  out.push(`<g class="rows"${xmlAttributes({ 'shape-rendering': 'crispEdges', 'font-size': 12, fill: '#222222' })}>`);
  data.series.forEach((series, i) => {
    const y = rowsTop + i * (ROW_HEIGHT + ROW_GAP);
    const label = labels[i] ?? '';
    out.push(`<g${xmlAttributes({ class: 'row', 'data-domain': series.domain ?? undefined, 'data-asn': series.asn ?? undefined })}>`);
    out.push(`<title>${xmlEscape(label)}</title>`);
    out.push(`<text${xmlAttributes({ class: 'row-label', x: plotLeft - 8, y: y + 13, 'text-anchor': 'end' })}>${xmlEscape(truncate(label, MAX_LABEL_CHARS))}</text>`);
    for (const b of series.buckets) {
      const x0 = xOf(b.startMs);
      const x1 = xOf(b.endMs);
      const fill = b.state === 'no_data' ? `url(#${id('no-data')})` : stateStyle(b.state).fill;
      out.push(`<rect${xmlAttributes({ class: 'cell', 'data-state': b.state, x: x0, y, width: Math.max(0, x1 - x0), height: ROW_HEIGHT, fill })}/>`);
    }
    out.push('</g>');
  });
  if (data.series.length === 0) {
    out.push(`<text${xmlAttributes({ x: plotLeft + 8, y: rowsTop + 13, fill: '#555555' })}>${xmlEscape(tr.t('status.empty'))}</text>`);
  }
  out.push('</g>');

  // Event shading over the strips, with a labelled bar in the events track.
  out.push(`<g class="events"${xmlAttributes({ 'clip-path': `url(#${id('plot')})`, 'font-size': 11 })}>`);
  for (const e of data.events) {
    const end = e.endMs ?? until;
    if (end <= since || e.startMs >= until) continue;
    const x0 = xOf(e.startMs);
    const x1 = xOf(end);
    const label = tr.t('chart.eventLabel', { name: e.name, start: dateTime(e.startMs, e.timeZone, locale), zone: e.timeZone, open: e.endMs === null ? 'yes' : 'no' });
    out.push(`<g class="event"${xmlAttributes({ 'data-name': e.name })}><title>${xmlEscape(label)}</title>`);
    out.push(`<rect${xmlAttributes({ x: x0, y: trackTop, width: x1 - x0, height: EVENT_TRACK_HEIGHT, fill: EVENT_FILL, 'fill-opacity': 0.35 })}/>`);
    out.push(`<rect${xmlAttributes({ x: x0, y: rowsTop, width: x1 - x0, height: rowsHeight, fill: EVENT_FILL, 'fill-opacity': 0.08 })}/>`);
    for (const [edge, at] of [['start', e.startMs], ['end', e.endMs]] as const) {
      if (at === null || at <= since || at >= until) continue;
      const x = xOf(at);
      out.push(`<line${xmlAttributes({ class: `event-${edge}`, x1: x, y1: trackTop, x2: x, y2: rowsBottom, stroke: EVENT_FILL, 'stroke-width': 1.5, 'stroke-dasharray': '4 3' })}/>`);
    }
    out.push(`<text${xmlAttributes({ class: 'event-label', x: x0 + 4, y: trackTop + 14, fill: '#0b2d5c' })}>${xmlEscape(label)}</text>`);
    out.push('</g>');
  }
  out.push('</g>');

  // Time axis: UTC ticks, the UTC date where it changes, local time beneath.
  const axisY = rowsBottom + 4;
  const { stepMs, ticks } = timeTicks(since, until, plotWidth);
  out.push(`<g class="axis"${xmlAttributes({ 'font-size': 11, fill: '#333333' })}>`);
  out.push(`<line${xmlAttributes({ x1: plotLeft, y1: axisY, x2: plotRight, y2: axisY, stroke: '#555555', 'stroke-width': 1 })}/>`);
  ticks.forEach((t, i) => {
    const x = xOf(t);
    const l = tickLabel(t, stepMs, i === 0, timeZone, locale);
    const anchor = x > plotRight - 30 ? 'end' : x < plotLeft + 30 ? 'start' : 'middle';
    out.push(`<g class="tick"${xmlAttributes({ 'data-time': new Date(t).toISOString() })}>`);
    out.push(`<line${xmlAttributes({ x1: x, y1: axisY, x2: x, y2: axisY + 5, stroke: '#555555', 'stroke-width': 1 })}/>`);
    out.push(`<text${xmlAttributes({ x, y: axisY + 17, 'text-anchor': anchor })}>${xmlEscape(l.utc)}</text>`);
    if (l.local !== undefined) out.push(`<text${xmlAttributes({ x, y: axisY + 30, 'text-anchor': anchor, fill: '#1f5fa8' })}>${xmlEscape(l.local)}</text>`);
    if (l.date !== undefined) out.push(`<text${xmlAttributes({ x, y: axisY + (localZone ? 43 : 30), 'text-anchor': anchor, 'font-weight': 'bold' })}>${xmlEscape(l.date)}</text>`);
    out.push('</g>');
  });
  const offsets = [...new Set([zoneOffset(since, timeZone), zoneOffset(until - 1, timeZone)])].join(' / ');
  const axisNote = localZone ? tr.t('chart.axisNoteLocal', { zone: timeZone, offsets }) : tr.t('chart.axisNote');
  out.push(`<text${xmlAttributes({ class: 'axis-note', x: plotLeft, y: axisY + (localZone ? 60 : 47), 'font-size': 12, fill: '#333333' })}>${xmlEscape(axisNote)}</text>`);
  out.push('</g>');

  // Footer: where the data came from and when the chart was made.
  const footerTop = axisY + (localZone ? 82 : 69);
  const maxChars = Math.floor((width - 2 * MARGIN) / 6);
  const footer = [
    ...(options.source === undefined ? [] : wrap(tr.t('chart.source', { source: options.source }), maxChars)),
    ...wrap(tr.t('chart.generated', { time: new Date(options.generatedMs).toISOString() }), maxChars),
  ];
  out.push(`<g class="footer"${xmlAttributes({ 'font-size': 11, fill: '#555555' })}>`);
  footer.forEach((line, i) => out.push(`<text${xmlAttributes({ x: MARGIN, y: footerTop + i * 15 })}>${xmlEscape(line)}</text>`));
  out.push('</g>');
  const height = Math.ceil(footerTop + (footer.length - 1) * 15 + MARGIN);

  const desc = tr.t('chart.desc', { subtitle, rows: data.series.length, labels: `${labels.slice(0, 20).join('; ')}${labels.length > 20 ? '; …' : ''}` });
  const defs = [
    '<defs>',
    `<pattern${xmlAttributes({ id: id('no-data'), patternUnits: 'userSpaceOnUse', width: 6, height: 6, patternTransform: 'rotate(45)' })}>`,
    `<rect${xmlAttributes({ width: 6, height: 6, fill: stateStyle('no_data').fill })}/>`,
    `<line${xmlAttributes({ x1: 0, y1: 0, x2: 0, y2: 6, stroke: NO_DATA_HATCH, 'stroke-width': 2 })}/>`,
    '</pattern>',
    `<clipPath${xmlAttributes({ id: id('plot') })}><rect${xmlAttributes({ x: plotLeft, y: trackTop, width: plotWidth, height: rowsBottom - trackTop })}/></clipPath>`,
    '</defs>',
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg${xmlAttributes({ xmlns: 'http://www.w3.org/2000/svg', version: '1.1', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id('title')} ${id('desc')}`, 'font-family': CHART_FONT })}>`,
    `<title${xmlAttributes({ id: id('title') })}>${xmlEscape(title)}</title>`,
    `<desc${xmlAttributes({ id: id('desc') })}>${xmlEscape(desc)}</desc>`,
    ...defs,
    `<rect${xmlAttributes({ width, height, fill: '#ffffff' })}/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
