// The heat-strip timeline, drawn with uPlot (docs/dashboard.md, "How the
// chart is drawn"). uPlot owns the scales, the axes, the canvas, HiDPI and
// the cursor; each (domain, ASN) strip is one uPlot series whose `paths`
// callback fills one rectangle per bucket in the colour of its state (the
// uPlot idiom for timelines: a series need not be a line). The y scale is
// categorical: row r (0 = the events track, then one per strip from the
// top) spans the values [n - r, n - r + 1]. Events are shaded in the `draw`
// hook, over the cells, with a labelled bar in the events track.
import uPlot from '../vendor/uPlot.esm.js';
import { tr } from './i18n.js';
import { rowLabel } from '../i18n/evidence-text.js';
import { utcText, zoned } from '../i18n/time-text.js';

/**
 * @typedef {import('./api.js').BucketState} BucketState
 * @typedef {import('./api.js').ApiBucket} ApiBucket
 * @typedef {{label: string, domain: string | null, asn: number | null, buckets: ApiBucket[]}} StripRow
 * @typedef {{name: string, startMs: number, endMs: number | null, timeZone: string}} ChartEvent
 * @typedef {{since: number, until: number, grainMs: number, rows: StripRow[], events: ChartEvent[], timeZone: string}} StripModel
 */

/** State → code stored in the series data (uPlot data must be numbers). */
const STATE_CODES = /** @type {const} */ (['no_data', 'accessible', 'anomaly', 'confirmed']);
const ROW_PX = 26;
const FONT_PX = 12;
// The font stack of chart-style.ts (CHART_FONT): every family draws Kazakh Cyrillic.
const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', Roboto, 'PT Sans', 'DejaVu Sans', Arial, sans-serif";

/**
 * The palette, read from the CSS custom properties (style.css), which a test
 * keeps equal to the server-side SVG's.
 * @returns {{fills: Record<BucketState, string>, hatch: string, event: string}}
 */
function palette() {
  const css = getComputedStyle(document.documentElement);
  /** @param {string} name @param {string} fallback */
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    fills: {
      accessible: v('--state-accessible', '#bfe3c6'),
      anomaly: v('--state-anomaly', '#f2a541'),
      confirmed: v('--state-confirmed', '#b2182b'),
      no_data: v('--state-no-data', '#eeeeee'),
    },
    hatch: v('--no-data-hatch', '#9a9a9a'),
    event: v('--event', '#3b6fb6'),
  };
}

/**
 * A diagonal hatch for "no data", in canvas pixels.
 * @param {CanvasRenderingContext2D} ctx
 * @param {string} background
 * @param {string} stroke
 * @param {number} ratio
 * @returns {CanvasPattern | string}
 */
function hatchPattern(ctx, background, stroke, ratio) {
  const size = Math.max(6, Math.round(6 * ratio));
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const t = tile.getContext('2d');
  if (t === null) return background;
  t.fillStyle = background;
  t.fillRect(0, 0, size, size);
  t.strokeStyle = stroke;
  t.lineWidth = Math.max(1, 1.5 * ratio);
  t.beginPath();
  // Two segments so the stripes join across tiles.
  t.moveTo(0, size);
  t.lineTo(size, 0);
  t.moveTo(-size / 2, size / 2);
  t.lineTo(size / 2, -size / 2);
  t.moveTo(size / 2, size * 1.5);
  t.lineTo(size * 1.5, size / 2);
  t.stroke();
  return ctx.createPattern(tile, 'repeat') ?? background;
}

/**
 * Width of the widest label at the axis font, in CSS px.
 * @param {string[]} labels
 */
function labelWidth(labels) {
  const ctx = document.createElement('canvas').getContext('2d');
  if (ctx === null) return 240;
  ctx.font = `${FONT_PX}px ${FONT_FAMILY}`;
  return Math.ceil(Math.max(60, ...labels.map((l) => ctx.measureText(l).width)));
}

/**
 * Tick labels in a zone: the 24-hour time, and the date where it changes
 * (uPlot's own time labels follow the browser's locale, e.g. "2am").
 * @param {string} timeZone
 * @returns {(u: uPlot, splits: number[]) => string[]}
 */
function zoneTicks(timeZone) {
  return (_u, splits) => {
    let lastDate = '';
    return splits.map((s) => {
      const z = zoned(s * 1000, timeZone);
      const label = z.date === lastDate ? z.time : `${z.time}\n${z.date}`;
      lastDate = z.date;
      return label;
    });
  };
}

/**
 * Draw the heat strip into `container`; returns the chart (destroy it before drawing another).
 * @param {HTMLElement} container
 * @param {StripModel} model
 * @param {(text: string) => void} onRead called with a description of the cell under the cursor
 * @returns {uPlot}
 */
export function drawHeatStrip(container, model, onRead) {
  const colours = palette();
  const n = model.rows.length;
  const xs = [];
  for (let t = model.since; t < model.until; t += model.grainMs) xs.push(t / 1000);
  /** @type {uPlot.AlignedData} */
  const data = [xs, ...model.rows.map((row) => row.buckets.map((b) => STATE_CODES.indexOf(b.state)))];
  const labels = [tr.t('chart.events'), ...model.rows.map((r) => r.label)];
  /** @type {CanvasPattern | string | undefined} */
  let hatch;

  /**
   * Canvas-pixel top and bottom of row r.
   * @param {uPlot} u
   * @param {number} r
   */
  const rowBand = (u, r) => {
    const top = u.valToPos(n + 1 - r, 'rows', true);
    const bottom = u.valToPos(n - r, 'rows', true);
    const gap = Math.round(2 * uPlot.pxRatio);
    return { top: Math.round(top) + gap, bottom: Math.round(bottom) - gap };
  };

  /** @type {uPlot.Series.PathBuilder} */
  const drawRow = (u, seriesIdx, idx0, idx1) => {
    const ctx = u.ctx;
    if (hatch === undefined) hatch = hatchPattern(ctx, colours.fills.no_data, colours.hatch, uPlot.pxRatio);
    const row = model.rows[seriesIdx - 1];
    if (row === undefined) return null;
    const { top, bottom } = rowBand(u, seriesIdx);
    ctx.save();
    for (let i = idx0; i <= idx1; i += 1) {
      const b = row.buckets[i];
      if (b === undefined) continue;
      const x0 = Math.round(u.valToPos(Date.parse(b.start) / 1000, 'x', true));
      const x1 = Math.round(u.valToPos(Date.parse(b.end) / 1000, 'x', true));
      ctx.fillStyle = b.state === 'no_data' ? hatch : colours.fills[b.state];
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), bottom - top);
    }
    ctx.restore();
    return null;
  };

  /** @param {uPlot} u */
  const drawEvents = (u) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const track = rowBand(u, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.fillStyle = '#f4f4f4';
    ctx.fillRect(left, track.top, width, track.bottom - track.top);
    for (const e of model.events) {
      const end = e.endMs ?? model.until;
      if (end <= model.since || e.startMs >= model.until) continue;
      const x0 = Math.round(u.valToPos(Math.max(e.startMs, model.since) / 1000, 'x', true));
      const x1 = Math.round(u.valToPos(Math.min(end, model.until) / 1000, 'x', true));
      ctx.globalAlpha = 0.35;
      ctx.fillStyle = colours.event;
      ctx.fillRect(x0, track.top, x1 - x0, track.bottom - track.top);
      ctx.globalAlpha = 0.08;
      ctx.fillRect(x0, track.bottom, x1 - x0, top + height - track.bottom);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = colours.event;
      ctx.lineWidth = Math.max(1, 1.5 * uPlot.pxRatio);
      ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
      for (const at of [e.startMs, e.endMs]) {
        if (at === null || at <= model.since || at >= model.until) continue;
        const x = Math.round(u.valToPos(at / 1000, 'x', true)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, track.top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.fillStyle = '#0b2d5c';
      ctx.font = `${Math.round(11 * uPlot.pxRatio)}px ${FONT_FAMILY}`;
      // uPlot leaves the alignment of its last axis on the context.
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      const z = zoned(e.startMs, e.timeZone);
      ctx.fillText(tr.t('chart.eventLabel', { name: e.name, start: `${z.date} ${z.time}`, zone: e.timeZone, open: e.endMs === null ? 'yes' : 'no' }), x0 + 4 * uPlot.pxRatio, (track.top + track.bottom) / 2);
    }
    ctx.restore();
  };

  /** @param {uPlot} u */
  const readCursor = (u) => {
    const { left, top } = u.cursor;
    if (left === undefined || top === undefined || left < 0 || top < 0) return;
    const ms = u.posToVal(left, 'x') * 1000;
    const i = Math.floor((ms - model.since) / model.grainMs);
    const r = n - Math.floor(u.posToVal(top, 'rows'));
    if (i < 0 || i >= xs.length || r < 0 || r > n) return;
    const start = model.since + i * model.grainMs;
    const end = start + model.grainMs;
    const when = tr.t('chart.readout.when', {
      utcFrom: utcText(start), utcTo: zoned(end, 'UTC').time, localFrom: zoned(start, model.timeZone).time, localTo: zoned(end, model.timeZone).time, zone: model.timeZone,
    });
    if (r === 0) {
      const events = model.events.filter((e) => e.startMs < end && (e.endMs ?? model.until) > start).map((e) => e.name);
      onRead(tr.t('chart.readout.events', { when, events: events.length === 0 ? tr.t('chart.readout.noEvent') : events.join('; ') }));
      return;
    }
    const row = model.rows[r - 1];
    const b = row?.buckets[i];
    if (row === undefined || b === undefined) return;
    onRead(b.state === 'no_data'
      ? tr.t('chart.readout.noData', { row: row.label, when })
      : tr.t('chart.readout.cell', { row: row.label, when, state: b.state, anomalies: b.anomalies, measurements: b.measurements, confirmed: b.confirmed }));
  };

  const width = Math.max(480, container.clientWidth);
  /** @type {uPlot.Options} */
  const opts = {
    width,
    height: (n + 1) * ROW_PX + 90,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    // Room on the right for the last tick's date.
    padding: [8, 40, 0, 0],
    legend: { show: false },
    cursor: { y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: true, auto: false, range: [model.since / 1000, model.until / 1000] },
      rows: { auto: false, range: [0, n + 1] },
    },
    axes: [
      { scale: 'x', side: 2, label: tr.t('chart.axisUtc'), labelSize: 20, font: `${FONT_PX}px ${FONT_FAMILY}`, labelFont: `bold ${FONT_PX}px ${FONT_FAMILY}`, grid: { show: false }, values: zoneTicks('UTC'), size: 44 },
      { scale: 'x', side: 0, label: tr.t('chart.axisLocal', { zone: model.timeZone }), labelSize: 20, font: `${FONT_PX}px ${FONT_FAMILY}`, labelFont: `bold ${FONT_PX}px ${FONT_FAMILY}`, stroke: '#1f5fa8', grid: { show: false }, values: zoneTicks(model.timeZone), size: 44 },
      {
        scale: 'rows',
        side: 3,
        font: `${FONT_PX}px ${FONT_FAMILY}`,
        size: labelWidth(labels) + 16,
        gap: 8,
        grid: { show: false },
        ticks: { show: false },
        splits: () => labels.map((_, r) => n + 0.5 - r),
        values: () => labels,
      },
    ],
    series: [
      {},
      ...model.rows.map((row) => ({ label: row.label, scale: 'rows', paths: drawRow, points: { show: false } })),
    ],
    hooks: {
      draw: [drawEvents],
      setCursor: [readCursor],
    },
  };
  return new uPlot(opts, data, container);
}

/**
 * The rows of the chart from the API's timeline.
 * @param {import('./api.js').ApiTimeline} timeline
 * @param {ReadonlyMap<number, string>} names
 * @returns {StripRow[]}
 */
export function stripRows(timeline, names) {
  return timeline.series.map((s) => ({ label: rowLabel(tr, s.domain, s.probe_asn, names), domain: s.domain, asn: s.probe_asn, buckets: s.buckets }));
}
