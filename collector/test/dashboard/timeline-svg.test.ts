import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, rowLabel as translatedRowLabel, translatorFor } from '@steppe/shared';
import { MAX_SVG_CELLS, type TimelineSvgData, type TimelineSvgSeries, renderTimelineSvg } from '../../src/dashboard/timeline-svg.js';
import { STATE_STYLES } from '../../src/dashboard/chart-style.js';
import type { BucketState } from '../../src/timeline/timeline.js';
import { findAll, parseXml, textOf } from './xml-tree.js';

const HOUR = 3_600_000;
const DAY0 = Date.UTC(2020, 11, 6);
const GENERATED = Date.UTC(2020, 11, 8, 9, 30);

/** A series with the given states, one per hour from DAY0. */
function series(domain: string | null, asn: number | null, states: readonly BucketState[]): TimelineSvgSeries {
  return {
    domain,
    asn,
    buckets: states.map((state, i) => {
      const measurements = state === 'no_data' ? 0 : 6;
      const anomalies = state === 'anomaly' || state === 'confirmed' ? 5 : 0;
      return { startMs: DAY0 + i * HOUR, endMs: DAY0 + (i + 1) * HOUR, state, measurements, anomalies, confirmed: state === 'confirmed' ? 4 : 0 };
    }),
  };
}

const STATES: BucketState[] = ['accessible', 'accessible', 'anomaly', 'confirmed', 'confirmed', 'no_data', 'no_data', 'accessible'];
const NAMES = new Map([[9198, 'JSC Kazakhtelecom'], [21299, 'Kar-Tel LLC']]);
const rowLabel = (domain: string | null, asn: number | null, names?: ReadonlyMap<number, string>): string => translatedRowLabel(translatorFor('en', 'collector'), domain, asn, names);

function data(overrides: Partial<TimelineSvgData> = {}): TimelineSvgData {
  return {
    since: DAY0,
    until: DAY0 + STATES.length * HOUR,
    grain: '1h',
    series: [
      series('www.facebook.com', 9198, STATES),
      series('www.facebook.com', 21299, STATES.map(() => 'accessible')),
      series('www.youtube.com', 9198, STATES.map(() => 'no_data')),
    ],
    events: [{ name: 'Cyber Security Nur-Sultan 2020', startMs: Date.parse('2020-12-06T00:00:00+06:00'), endMs: null, timeZone: 'Asia/Almaty' }],
    networkNames: NAMES,
    ...overrides,
  };
}

describe('renderTimelineSvg', () => {
  it('is a well-formed standalone SVG document with a title and description', () => {
    const svg = renderTimelineSvg(data(), { generatedMs: GENERATED, timeZone: 'Asia/Almaty' });
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes['xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(root.attributes['role']).toBe('img');
    expect(Number(root.attributes['width'])).toBe(1200);
    expect(Number(root.attributes['height'])).toBeGreaterThan(200);
    expect(root.attributes['viewBox']).toBe(`0 0 1200 ${root.attributes['height']}`);
    const title = root.children.find((c) => c.name === 'title');
    expect(title?.text).toBe('Blocking timeline, 06 Dec 2020 00:00 – 06 Dec 2020 08:00 UTC');
    expect(root.children.find((c) => c.name === 'desc')?.text).toContain('www.facebook.com · AS9198 JSC Kazakhtelecom');
    // Nothing that runs: no script, no event handler attributes, no foreign content.
    for (const el of findAll(root, 'script')) throw new Error(`script element ${el.name}`);
    expect(findAll(root, 'foreignObject')).toHaveLength(0);
    expect(svg).not.toMatch(/\son[a-z]+=/i);
  });

  it('draws one cell per bucket per row, coloured by state, with no-data cells hatched', () => {
    const d = data();
    const root = parseXml(renderTimelineSvg(d, { generatedMs: GENERATED }));
    const rows = findAll(root, 'g', 'row');
    expect(rows).toHaveLength(3);
    const cells = findAll(root, 'rect', 'cell');
    expect(cells).toHaveLength(3 * STATES.length);
    // Row by row, cell by cell, the state written is the state given.
    rows.forEach((row, r) => {
      const rowCells = row.children.filter((c) => c.name === 'rect');
      expect(rowCells.map((c) => c.attributes['data-state'])).toEqual(d.series[r]?.buckets.map((b) => b.state));
    });
    const pattern = findAll(root, 'pattern')[0];
    expect(pattern?.attributes['id']).toBe('steppe-no-data');
    for (const c of cells) {
      const style = STATE_STYLES.find((s) => s.state === c.attributes['data-state']);
      expect(style).toBeDefined();
      if (c.attributes['data-state'] === 'no_data') expect(c.attributes['fill']).toBe('url(#steppe-no-data)');
      else expect(c.attributes['fill']).toBe(style?.fill);
    }
    expect(cells.filter((c) => c.attributes['data-state'] === 'no_data')).toHaveLength(2 + STATES.length);
    // Cells tile the plot: each starts where the previous one ended, all the same width.
    const firstRow = rows[0]?.children.filter((c) => c.name === 'rect') ?? [];
    for (let i = 1; i < firstRow.length; i += 1) {
      const prev = firstRow[i - 1]?.attributes ?? {};
      const cur = firstRow[i]?.attributes ?? {};
      expect(Number(cur['x'])).toBeCloseTo(Number(prev['x']) + Number(prev['width']), 1);
      expect(Number(cur['width'])).toBeCloseTo(Number(prev['width']), 1);
    }
    // Legend: one swatch per state, no data hatched there too.
    const swatches = findAll(root, 'rect', 'legend-swatch');
    expect(swatches.map((s) => s.attributes['data-state'])).toEqual(STATE_STYLES.map((s) => s.state));
    expect(swatches.find((s) => s.attributes['data-state'] === 'no_data')?.attributes['fill']).toBe('url(#steppe-no-data)');
  });

  it('labels rows "domain · ASxxxx name" and escapes names from data', () => {
    const hostile = 'evil"><script>alert(1)</script>&amp;\u0001.example';
    const names = new Map([[64500, 'Ops & "Friends" <LLC>']]);
    const svg = renderTimelineSvg(data({ series: [series(hostile, 64500, ['confirmed', 'no_data'])], until: DAY0 + 2 * HOUR, networkNames: names, events: [{ name: '<b>Summit</b> & co', startMs: DAY0 + HOUR, endMs: DAY0 + 2 * HOUR, timeZone: 'UTC' }] }), { generatedMs: GENERATED, source: 'http://127.0.0.1:1/api/v1/timeline?domain=a&probe_asn=AS1' });
    const root = parseXml(svg);
    expect(findAll(root, 'script')).toHaveLength(0);
    expect(findAll(root, 'b')).toHaveLength(0);
    const label = findAll(root, 'text', 'row-label')[0];
    // The control character (not allowed in XML) became U+FFFD; everything else is the name as given.
    expect(label ? textOf(label) : '').toBe(`${hostile.replace('\u0001', '\uFFFD')} · AS64500 Ops & "Friends" <LLC>`.slice(0, 63) + '…');
    const row = findAll(root, 'g', 'row')[0];
    expect(row?.attributes['data-domain']).toBe(hostile.replace('\u0001', '\uFFFD'));
    expect(row?.children.find((c) => c.name === 'title')?.text).toBe(`${hostile.replace('\u0001', '\uFFFD')} · AS64500 Ops & "Friends" <LLC>`);
    expect(findAll(root, 'text', 'event-label')[0]?.text).toContain('<b>Summit</b> & co');
    expect(textOf(findAll(root, 'g', 'footer')[0] ?? root)).toContain('Source: http://127.0.0.1:1/api/v1/timeline?domain=a&probe_asn=AS1');
  });

  it('rowLabel names the network, or says when rows are not split', () => {
    expect(rowLabel('www.youtube.com', 21299, NAMES)).toBe('www.youtube.com · AS21299 Kar-Tel LLC');
    expect(rowLabel('www.youtube.com', 64500, NAMES)).toBe('www.youtube.com · AS64500');
    expect(rowLabel(null, 9198, NAMES)).toBe('all domains · AS9198 JSC Kazakhtelecom');
    expect(rowLabel('x.example', null)).toBe('x.example · all networks');
  });

  it('shades events over the strips, labels them with their local start, and skips events outside the range', () => {
    const inside = { name: 'Inside', startMs: DAY0 + 2 * HOUR, endMs: DAY0 + 4 * HOUR, timeZone: 'Asia/Almaty' };
    const open = { name: 'Open', startMs: DAY0 - 5 * HOUR, endMs: null, timeZone: 'Asia/Almaty' };
    const outside = { name: 'Outside', startMs: DAY0 + 20 * HOUR, endMs: DAY0 + 30 * HOUR, timeZone: 'UTC' };
    const root = parseXml(renderTimelineSvg(data({ events: [inside, open, outside] }), { generatedMs: GENERATED }));
    const events = findAll(root, 'g', 'event');
    expect(events.map((e) => e.attributes['data-name'])).toEqual(['Inside', 'Open']);
    const insideLabel = findAll(events[0] ?? root, 'text', 'event-label')[0]?.text;
    expect(insideLabel).toBe('Inside · from 06 Dec 2020 08:00 Asia/Almaty');
    expect(findAll(events[1] ?? root, 'text', 'event-label')[0]?.text).toBe('Open · from 06 Dec 2020 01:00 Asia/Almaty (no end set)');
    // Both edges of the inside event are drawn; the open one starts before the chart and has no end line.
    expect(findAll(events[0] ?? root, 'line', 'event-start')).toHaveLength(1);
    expect(findAll(events[0] ?? root, 'line', 'event-end')).toHaveLength(1);
    expect(findAll(events[1] ?? root, 'line')).toHaveLength(0);
    // The shading covers exactly the event's hours: 2 of the 8 buckets' width.
    const cells = findAll(root, 'rect', 'cell');
    const cellWidth = Number(cells[0]?.attributes['width']);
    const shade = events[0]?.children.filter((c) => c.name === 'rect') ?? [];
    expect(shade).toHaveLength(2);
    for (const s of shade) expect(Number(s.attributes['width'])).toBeCloseTo(2 * cellWidth, 1);
    expect(Number(shade[0]?.attributes['x'])).toBeCloseTo(Number(cells[2]?.attributes['x']), 1);
  });

  it('has UTC ticks inside the range, local times beneath, and notes the zone and its offset', () => {
    const root = parseXml(renderTimelineSvg(data(), { generatedMs: GENERATED, timeZone: 'Asia/Almaty' }));
    const ticks = findAll(root, 'g', 'tick');
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    for (const t of ticks) {
      const ms = Date.parse(t.attributes['data-time'] ?? '');
      expect(ms).toBeGreaterThanOrEqual(DAY0);
      expect(ms).toBeLessThanOrEqual(DAY0 + STATES.length * HOUR);
      expect(ms % HOUR).toBe(0);
      const texts = t.children.filter((c) => c.name === 'text').map((c) => c.text);
      const utc = new Date(ms).toISOString().slice(11, 16);
      const local = new Date(ms + 6 * HOUR).toISOString().slice(11, 16);
      expect(texts).toContain(utc);
      expect(texts).toContain(local);
    }
    expect(findAll(root, 'text', 'axis-note')[0]?.text).toBe('Time axis in UTC; second line: local time in Asia/Almaty (UTC+06:00)');
    const utcOnly = parseXml(renderTimelineSvg(data(), { generatedMs: GENERATED }));
    expect(findAll(utcOnly, 'text', 'axis-note')[0]?.text).toBe('Time axis in UTC');
  });

  it('cites the source and the generation time in the footer, wrapping long queries', () => {
    const source = `http://127.0.0.1:8080/api/v1/timeline?${Array.from({ length: 30 }, (_, i) => `domain=site${i}.example`).join('&')}`;
    const root = parseXml(renderTimelineSvg(data(), { generatedMs: GENERATED, source }));
    const lines = findAll(root, 'g', 'footer')[0]?.children.map((c) => c.text) ?? [];
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).join('')).toBe(`Source: ${source}`);
    expect(lines[lines.length - 1]).toContain('Generated 2020-12-08T09:30:00.000Z');
  });

  it('says so when no row matches, and stays well-formed', () => {
    const root = parseXml(renderTimelineSvg(data({ series: [] }), { generatedMs: GENERATED }));
    expect(findAll(root, 'rect', 'cell')).toHaveLength(0);
    expect(textOf(root)).toContain('No measurements match these filters in this range.');
  });

  it('is deterministic', () => {
    expect(renderTimelineSvg(data(), { generatedMs: GENERATED, timeZone: 'Asia/Almaty' })).toBe(renderTimelineSvg(data(), { generatedMs: GENERATED, timeZone: 'Asia/Almaty' }));
  });

  it('refuses bad options and too many cells, naming them', () => {
    const bad = (d: TimelineSvgData, options: Parameters<typeof renderTimelineSvg>[1]): string => {
      try {
        renderTimelineSvg(d, options);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad(data(), { generatedMs: GENERATED, width: 100 })).toMatch(/^option width/);
    expect(bad(data(), { generatedMs: GENERATED, timeZone: 'Mars/Olympus' })).toMatch(/^option timeZone/);
    expect(bad(data(), { generatedMs: GENERATED, idPrefix: '1"x' })).toMatch(/^option idPrefix/);
    expect(bad(data({ until: DAY0 }), { generatedMs: GENERATED })).toMatch(/since\/until/);
    const many = Array.from({ length: Math.ceil(MAX_SVG_CELLS / STATES.length) + 1 }, (_, i) => series(`d${i}.example`, 1, STATES));
    expect(bad(data({ series: many }), { generatedMs: GENERATED })).toMatch(/cells is more than/);
  });

  it('uses the id prefix everywhere, so two charts can share a page', () => {
    const svg = renderTimelineSvg(data(), { generatedMs: GENERATED, idPrefix: 'chart2' });
    const root = parseXml(svg);
    const ids = findAll(root, 'pattern').concat(findAll(root, 'clipPath')).map((e) => e.attributes['id']);
    expect(ids).toEqual(['chart2-no-data', 'chart2-plot']);
    expect(svg).not.toContain('steppe-');
  });
});
