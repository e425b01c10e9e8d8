import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, decodeBody, loadFingerprints, matchDnsFingerprints, matchHttpFingerprints, matchesPattern, parseCsvObjects, type Fingerprint } from '@steppe/shared';

const HEADER = 'name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\r\n';

describe('parseCsvObjects (reference data)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks into named columns', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""","line1\r\nline2"\nplain,,last\r\n\r\n';
    expect(parseCsvObjects(text, ['a'], 't.csv')).toEqual([
      { a: 'x, y', b: 'say "hi"', c: 'line1\r\nline2' },
      { a: 'plain', b: '', c: 'last' },
    ]);
  });

  it('rejects malformed reference data, naming the line', () => {
    expect(() => parseCsvObjects('a\n"open,b\n', ['a'], 't.csv')).toThrow(/t\.csv: line 2/);
    expect(() => parseCsvObjects('a,b\n1,2,3\n', ['a'], 't.csv')).toThrow(/line 2 has 3 fields/);
    expect(() => parseCsvObjects('a,b\n1,2\n', ['zz'], 't.csv')).toThrow(InvalidArgumentError);
  });
});

describe('loadFingerprints', () => {
  const set = loadFingerprints(
    HEADER +
      'f.full,nat,,body,full,<html>blocked</html>,10,"KZ,RU",test,,\r\n' +
      'f.prefix,isp,,header.Location,prefix,http://block.example/,10,KZ,test,,\r\n' +
      'f.contains,inst,,body,contains,"Access ""denied"", sorry",5,,test,,"multi\r\nline note"\r\n' +
      'f.regexp,prod,,body,regexp,URL .* Sp.*er Gate,5,,test,,\r\n' +
      'f.server,prod,,header.server,full,SonicWALL,5,,test,,\r\n' +
      'f.fp,fp,,body,contains,Welcome to nginx!,5,,test,,\r\n' +
      'f.vbw,vbw,,body,contains,Website Blocked,8,,test,,\r\n' +
      'f.badtype,nat,,body,glob,*x*,5,,test,,\r\n' +
      'f.badloc,nat,,cookie,contains,x,5,,test,,\r\n' +
      'f.badre,nat,,body,regexp,(unclosed,5,,test,,\r\n' +
      'f.dnsinhttp,nat,,dns,full,1.2.3.4,5,,test,,\r\n',
    HEADER + 'd.one,nat,,dns,full,95.59.0.10,10,KZ,test,,\r\nd.cname,isp,,dns,full,block.example.kz,10,KZ,test,,\r\n',
  );
  const byName = (name: string): Fingerprint => {
    const fp = [...set.http, ...set.dns].find((f) => f.name === name);
    if (fp === undefined) throw new Error(`no ${name}`);
    return fp;
  };

  it('parses every supported pattern type and location, and the strength from the scope', () => {
    expect(set.http.map((f) => f.name)).toEqual(['f.full', 'f.prefix', 'f.contains', 'f.regexp', 'f.server', 'f.fp', 'f.vbw']);
    expect(byName('f.prefix')).toMatchObject({ location: 'header', headerName: 'location', patternType: 'prefix', strength: 'strong' });
    expect(byName('f.full')).toMatchObject({ expectedCountries: ['KZ', 'RU'], confidence: 10 });
    expect(byName('f.contains').pattern).toBe('Access "denied", sorry');
    expect(byName('f.fp').strength).toBe('false_positive');
    expect(byName('f.vbw').strength).toBe('vague');
    expect(set.dns.map((f) => f.name)).toEqual(['d.one', 'd.cname']);
  });

  it('lists the rows it cannot use and why', () => {
    expect(set.skipped.map((s) => [s.name, s.reason.split(' ')[0]])).toEqual([
      ['f.badtype', 'unknown'],
      ['f.badloc', 'unknown'],
      ['f.badre', 'regexp'],
      ['f.dnsinhttp', 'location_found'],
    ]);
  });

  it('rejects a file without the expected columns', () => {
    expect(() => loadFingerprints('name,pattern\nx,y\n', '')).toThrow(/missing column/);
  });

  it('matches full only on the complete value, prefix, contains and regexp anywhere', () => {
    expect(matchesPattern(byName('f.full'), '<html>blocked</html>')).toBe(true);
    expect(matchesPattern(byName('f.full'), '<html>blocked</html>', false)).toBe(false);
    expect(matchesPattern(byName('f.full'), ' <html>blocked</html>')).toBe(false);
    expect(matchesPattern(byName('f.prefix'), 'http://block.example/?u=x')).toBe(true);
    expect(matchesPattern(byName('f.prefix'), 'https://x/http://block.example/')).toBe(false);
    expect(matchesPattern(byName('f.contains'), 'xx Access "denied", sorry xx')).toBe(true);
    expect(matchesPattern(byName('f.regexp'), 'The URL http://a is blocked by Spider Gate.')).toBe(true);
    expect(matchesPattern(byName('f.regexp'), 'URL\nSpider Gate')).toBe(false);
  });

  it('matches responses by body and by header name case-insensitively', () => {
    const names = (body: string, headers: [string, string][], complete = true): string[] =>
      matchHttpFingerprints(set.http, { body, bodyComplete: complete, headers: headers.map(([name, value]) => ({ name, value })) }).map((f) => f.name);
    expect(names('', [['Location', 'http://block.example/p'], ['Server', 'SonicWALL']])).toEqual(['f.prefix', 'f.server']);
    expect(names('<html>blocked</html>', [])).toEqual(['f.full']);
    expect(names('<html>blocked</html>', [], false)).toEqual([]);
    expect(names('Welcome to nginx! Website Blocked', [])).toEqual(['f.fp', 'f.vbw']);
  });

  it('matches DNS answers, with or without a trailing dot', () => {
    expect(matchDnsFingerprints(set.dns, '95.59.0.10').map((f) => f.name)).toEqual(['d.one']);
    expect(matchDnsFingerprints(set.dns, 'block.example.kz.').map((f) => f.name)).toEqual(['d.cname']);
    expect(matchDnsFingerprints(set.dns, '95.59.0.11')).toEqual([]);
  });

  it('decodes bodies in the charset their Content-Type names', () => {
    const cp1251 = new Uint8Array([0xd1, 0xf2, 0xf0, 0xe0, 0xed, 0xe8, 0xf6, 0xe0]); // "Страница"
    expect(decodeBody(cp1251, 'text/html; charset=windows-1251')).toBe('Страница');
    expect(decodeBody(new TextEncoder().encode('Страница'), 'text/html')).toBe('Страница');
    expect(decodeBody(new TextEncoder().encode('ok'), 'text/html; charset=no-such-charset')).toBe('ok');
  });
});
