import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTestList } from '@steppe/shared';
import { currentCategoryCode, parseCategoryLegend } from '../../src/testlists/categories.js';
import { CORE_TARGETS } from '../../src/testlists/core.js';
import { loadCategoryLegend, loadShippedList, shippedListsDir } from '../../src/testlists/shipped.js';

// The repository's copies (the demo's 2020 snapshots included); the upstream
// snapshot outside the repository is compared byte for byte when present.
const SHARED = new URL('../../data/test-lists/', import.meta.url).pathname;
const UPSTREAM = new URL('../../../../shared/data/test-lists/', import.meta.url).pathname;
const HEADER = 'url,category_code,category_description,date_added,source,notes';

/**
 * Data rows counted independently of the parser: non-empty lines minus the
 * header (none of these files has a line break inside a quoted field; the
 * test checks that too). Note kz.csv has no final newline, so `wc -l` (and
 * the 552 of shared/data SOURCES.md) undercounts it by one: 553 rows.
 */
function lineCount(path: string): number {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  for (const line of lines) expect((line.match(/"/g) ?? []).length % 2, line).toBe(0);
  return lines.length - 1;
}

describe('the real Citizen Lab lists', () => {
  for (const name of ['kz', 'global'] as const) {
    it(`${name}.csv parses: every row is an entry, none skipped`, () => {
      const text = readFileSync(`${SHARED}${name}.csv`, 'utf8');
      const list = parseTestList(text, name);
      expect(list.problems).toEqual([]);
      expect(list.entries).toHaveLength(lineCount(`${SHARED}${name}.csv`));
      expect(list.entries.length).toBeGreaterThan(name === 'kz' ? 500 : 1500);
      for (const e of list.entries) {
        expect(e.url).toMatch(/^https?:\/\//);
        expect(e.categoryCode).toMatch(/^[A-Z]{2,8}$/);
      }
    });

    it.skipIf(!existsSync(UPSTREAM))(`the shipped ${name}.csv is a byte-for-byte copy of the source`, () => {
      expect(readFileSync(`${shippedListsDir()}${name}.csv`).equals(readFileSync(`${UPSTREAM}${name}.csv`))).toBe(true);
      expect(loadShippedList(name).entries.length).toBe(lineCount(`${SHARED}${name}.csv`));
    });
  }

  it('the 2020 snapshots parse too (the demo replays 6 December 2020)', () => {
    for (const file of ['kz_asof_2020-12-05.csv', 'global_asof_2020-12-05.csv']) {
      const list = parseTestList(readFileSync(`${SHARED}${file}`, 'utf8'), file);
      expect(list.problems).toEqual([]);
      expect(list.entries).toHaveLength(lineCount(`${SHARED}${file}`));
    }
  });

  it('reads quoted notes with commas (a real kz.csv row)', () => {
    const list = loadShippedList('kz');
    const row = list.entries.find((e) => e.url === 'https://disconnect.me/');
    expect(row?.categoryCode).toBe('ANON');
    expect(row?.notes).toContain('proxy servers such as TOR, VPN servers, etc. Art 41-1)');
  });

  it('Facebook, Instagram and YouTube are on the global list (not kz.csv)', () => {
    const global = new Set(loadShippedList('global').entries.map((e) => e.url));
    const kz = new Set(loadShippedList('kz').entries.map((e) => e.url));
    for (const url of ['https://www.facebook.com/', 'https://www.instagram.com/', 'https://www.youtube.com/']) {
      expect(global.has(url)).toBe(true);
      expect(kz.has(url)).toBe(false);
    }
  });
});

describe('the core list', () => {
  it('every core URL is on the Citizen Lab list it names, with the same category', () => {
    const lists = { kz: loadShippedList('kz'), global: loadShippedList('global') };
    for (const t of CORE_TARGETS) {
      const row = lists[t.from].entries.find((e) => e.url === t.url);
      expect(row, t.url).toBeDefined();
      expect(row?.categoryCode, t.url).toBe(t.categoryCode);
    }
  });

  it('holds the platforms blocked on 6 Dec 2020 and independent KZ news', () => {
    const urls = CORE_TARGETS.map((t) => t.url);
    for (const must of ['https://www.facebook.com/', 'https://www.instagram.com/', 'https://www.youtube.com/', 'https://www.whatsapp.com/', 'https://telegram.org/']) {
      expect(urls).toContain(must);
    }
    expect(CORE_TARGETS.filter((t) => t.from === 'kz' && t.categoryCode === 'NEWS').length).toBeGreaterThanOrEqual(5);
    expect(new Set(urls).size).toBe(urls.length);
  });
});

describe('bad rows are reported with their line and skipped, never silently', () => {
  it('names each bad row', () => {
    const text = [
      HEADER,
      'https://ok.example/,NEWS,News Media,2020-01-01,me,',
      'ftp://files.example/,FILE,File-sharing,2020-01-01,me,',
      'https://short.example/,NEWS,News Media,2020-01-01',
      'https://lower.example/,news,News Media,2020-01-01,me,',
      'https://date.example/,NEWS,News Media,01/02/2020,me,',
      'https://ok.example/,NEWS,News Media,2020-01-01,me,dup',
      'not a url,NEWS,News Media,2020-01-01,me,',
      '"https://quoted.example/","GRP","Social, Networking",2020-01-01,me,"note, with ""quotes"""',
      'broken"quote,NEWS,x,2020-01-01,me,',
      '',
    ].join('\n');
    const list = parseTestList(text, 'test');
    expect(list.entries.map((e) => e.url)).toEqual(['https://ok.example/', 'https://quoted.example/']);
    expect(list.entries[1]?.notes).toBe('note, with "quotes"');
    expect(list.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 10]);
    expect(list.problems[0]?.message).toMatch(/not http:\/\/ or https:\/\//);
    expect(list.problems[1]?.message).toMatch(/expected 6 columns, got 4/);
    expect(list.problems[2]?.message).toMatch(/category_code "news"/);
    expect(list.problems[3]?.message).toMatch(/date_added "01\/02\/2020"/);
    expect(list.problems[4]?.message).toMatch(/duplicate url https:\/\/ok.example\/ \(first on line 2\)/);
    expect(list.problems[5]?.message).toMatch(/not a valid URL/);
  });

  it('a wrong header is one problem at line 1 and no entries', () => {
    const list = parseTestList('url,category\nhttps://a.example/,NEWS\n', 'x');
    expect(list.entries).toEqual([]);
    expect(list.problems).toEqual([{ line: 1, message: expect.stringContaining(`expected ${HEADER}`) as unknown as string }]);
  });

  it('an empty file is a problem, not an empty list', () => {
    expect(parseTestList('', 'x').problems[0]?.message).toMatch(/empty file/);
  });
});

describe('category legend', () => {
  it('parses every current code and maps old codes to new ones', () => {
    const legend = loadCategoryLegend();
    expect(legend.map((c) => c.code)).toContain('NEWS');
    expect(legend.length).toBe(31);
    expect(currentCategoryCode('FEXP', legend)).toBe('NEWS');
    expect(currentCategoryCode('VOIP', legend)).toBe('COMT');
    expect(currentCategoryCode('GRP', legend)).toBe('GRP');
    expect(currentCategoryCode('ZZZ', legend)).toBe('ZZZ');
  });

  it('every category used by the shipped lists is in the legend', () => {
    const codes = new Set(loadCategoryLegend().map((c) => c.code));
    for (const name of ['kz', 'global'] as const) {
      for (const e of loadShippedList(name).entries) expect(codes.has(e.categoryCode), `${e.url} ${e.categoryCode}`).toBe(true);
    }
  });

  it('the parser works on a legend text directly', () => {
    const legend = parseCategoryLegend('Category Description,New Code,Replaces old code(s),Description\nNews Media,NEWS,FEXP,"News, regional"\n');
    expect(legend).toEqual([{ code: 'NEWS', name: 'News Media', description: 'News, regional', replaces: ['FEXP'] }]);
  });
});
