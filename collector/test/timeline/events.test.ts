import { describe, expect, it } from 'vitest';
import { ConfigError } from '@steppe/shared';
import { describeEngines } from '../store/engines.js';
import type { Episode } from '../../src/timeline/episode-model.js';
import { DEFAULT_EVENTS_FILE, eventToJson, isTimeZone, loadEventsFile, localTime, overlappingEpisodes, parseEvent, seedEventsFromFile } from '../../src/timeline/events.js';

const summit = { name: 'Cyber Security Nur-Sultan 2020', start: '2020-12-06T00:00:00+06:00', end: null, time_zone: 'Asia/Almaty', description: 'x', source_url: 'https://example.org/a' };

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  return '(no error)';
}

describe('events', () => {
  it('parses the JSON form, start with an explicit offset', async () => {
    expect(parseEvent(summit)).toEqual({ name: summit.name, startMs: Date.UTC(2020, 11, 5, 18), endMs: null, timeZone: 'Asia/Almaty', description: 'x', sourceUrl: 'https://example.org/a' });
  });

  it('names the bad field', async () => {
    expect(field(() => parseEvent({ ...summit, start: '2020-12-06T00:00:00' }))).toBe('start');
    expect(field(() => parseEvent({ ...summit, time_zone: 'Asia/Nowhere' }))).toBe('time_zone');
    expect(field(() => parseEvent({ ...summit, end: '2020-12-05T00:00:00Z' }))).toBe('end');
    expect(field(() => parseEvent({ ...summit, source_url: 'javascript:alert(1)' }))).toBe('source_url');
    expect(field(() => parseEvent({ ...summit, extra: 1 }))).toBe('extra');
    expect(field(() => parseEvent({ ...summit, name: '' }))).toBe('name');
  });

  it('knows IANA zones and shows local times with their offset', async () => {
    expect(isTimeZone('Asia/Almaty')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(localTime(Date.UTC(2020, 11, 6, 4, 2), 'Asia/Almaty')).toBe('2020-12-06 10:02 (UTC+06:00)');
    expect(localTime(Date.UTC(2020, 11, 6, 4, 2), 'UTC')).toBe('2020-12-06 04:02 (UTC+00:00)');
  });

  it('relates the episodes that overlap an event, an open end running to now', async () => {
    const ev = parseEvent(summit);
    const ep = (onset: number, end: number): Episode => ({ id: String(onset), kind: 'blocking', domain: 'd', asn: 1, onsetMs: onset, endMs: end, ongoing: false, grain: '1h', blockingTypes: [], probes: 2, measurements: 2, anomalies: 2, confirmed: 0, gapBuckets: 0, singleProbe: false, confidence: 0.75, evidence: [] });
    const before = ep(ev.startMs - 7_200_000, ev.startMs);
    const inside = ep(ev.startMs + 3_600_000, ev.startMs + 7_200_000);
    const after = ep(ev.startMs + 86_400_000 * 10, ev.startMs + 86_400_000 * 11);
    expect(overlappingEpisodes(ev, [before, inside, after], ev.startMs + 86_400_000).map((e) => e.id)).toEqual([inside.id]);
    expect(overlappingEpisodes(ev, [before, inside, after], ev.startMs + 86_400_000 * 30).map((e) => e.id)).toEqual([inside.id, after.id]);
  });
});

describeEngines('events', (engine) => {
  describe('events in the store', () => {
    it('ships a valid seed file with the summit, and seeds it once', async () => {
      const events = loadEventsFile(DEFAULT_EVENTS_FILE.pathname);
      const first = events.find((e) => e.name === 'Cyber Security Nur-Sultan 2020');
      expect(first).toMatchObject({ startMs: Date.UTC(2020, 11, 5, 18), timeZone: 'Asia/Almaty' });
      expect(first?.sourceUrl).toMatch(/^https:\/\//);
      expect(first?.description.length).toBeGreaterThan(100);
      const store = await engine.open();
      expect(await seedEventsFromFile(store, 1)).toBe(events.length);
      expect(await seedEventsFromFile(store, 2)).toBe(0);
      const [stored] = await store.listEvents();
      expect(stored).toMatchObject({ origin: 'seed', createdMs: 1 });
      if (stored !== undefined) expect(eventToJson(stored)).toMatchObject({ start: '2020-12-05T18:00:00.000Z', start_local: '2020-12-06 00:00 (UTC+06:00)', end: null });
    });

    it('CRUD and range listing in the store', async () => {
      const store = await engine.open();
      const a = await store.addEvent(parseEvent({ ...summit, end: '2020-12-20T00:00:00+06:00' }), 10, 'admin');
      const b = await store.addEvent(parseEvent({ ...summit, name: 'Later', start: '2021-01-05T00:00:00Z' }), 11, 'admin');
      expect(await store.getEvent(a.id)).toEqual(a);
      expect(await store.listEvents({ since: Date.UTC(2020, 11, 25), until: Date.UTC(2020, 11, 31) })).toEqual([]);
      expect((await store.listEvents({ since: Date.UTC(2020, 11, 10), until: Date.UTC(2021, 0, 10) })).map((e) => e.id)).toEqual([a.id, b.id]);
      expect((await store.updateEvent(b.id, { ...parseEvent(summit), name: 'Renamed' }))?.name).toBe('Renamed');
      expect(await store.deleteEvent(b.id)).toBe(true);
      expect(await store.deleteEvent(b.id)).toBe(false);
      expect(await store.getEvent(b.id)).toBeUndefined();
    });
  });
});
