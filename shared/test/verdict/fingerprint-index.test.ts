import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fingerprint, type FingerprintableResponse, defaultVerdictReference, loadFingerprints, matchHttpFingerprints, matchesPattern } from '../../src/index.js';
import { MIN_INDEXED_FINGERPRINTS, bodyCandidates, buildFingerprintIndex } from '../../src/verdict/fingerprint-index.js';

// The index only pre-filters: matchHttpFingerprints must return exactly what
// testing every fingerprint returns, in file order.
function everyMatch(fingerprints: readonly Fingerprint[], response: FingerprintableResponse): string[] {
  const headers = new Map<string, string[]>();
  for (const h of response.headers) {
    const name = (h.name ?? '').toLowerCase();
    if (name !== '') headers.set(name, [...(headers.get(name) ?? []), h.value ?? '']);
  }
  return fingerprints
    .filter((fp) =>
      fp.location === 'body'
        ? response.body !== '' && matchesPattern(fp, response.body, response.bodyComplete)
        : fp.location === 'header' && (headers.get(fp.headerName) ?? []).some((v) => matchesPattern(fp, v)),
    )
    .map((fp) => fp.name);
}

const bundled = defaultVerdictReference().httpFingerprints;

describe('the fingerprint index behind matchHttpFingerprints', () => {
  it('finds the bundled fingerprints embedded in a page, with the same result as testing each one', () => {
    const body = bundled.filter((fp) => fp.location === 'body').slice(0, 400);
    for (const fp of body) {
      const response = { body: `<html><body><p>Привет</p>${fp.pattern}<p>end</p></body></html>`, bodyComplete: true, headers: [] };
      const names = matchHttpFingerprints(bundled, response).map((f) => f.name);
      expect(names).toEqual(everyMatch(bundled, response));
      if (fp.patternType === 'contains') expect(names).toContain(fp.name);
    }
  });

  it('agrees with testing every fingerprint on pages mixing patterns, fragments and other text', () => {
    const pattern = fc.constantFrom(...bundled.map((fp) => fp.pattern));
    const text = fc.oneof(
      pattern,
      pattern.map((p) => p.slice(1)),
      pattern.map((p) => p.slice(0, -1)),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('<html>', '</title>', 'blocked', 'Доступ ограничен', '😀', '\n'),
    );
    const response = fc.record({
      body: fc.array(text, { maxLength: 6 }).map((parts) => parts.join(' ')),
      bodyComplete: fc.boolean(),
      headers: fc.array(fc.record({ name: fc.constantFrom('Server', 'location', 'Via', 'x-other'), value: fc.oneof(pattern, fc.string({ maxLength: 8 })) }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(response, (r) => {
        expect(matchHttpFingerprints(bundled, r).map((f) => f.name)).toEqual(everyMatch(bundled, r));
      }),
      { numRuns: 1500 },
    );
  });

  it('keeps few candidates for an ordinary page', () => {
    const index = buildFingerprintIndex(bundled.filter((fp) => fp.strength !== 'false_positive'));
    let body = '<!doctype html><html><head><title>Vlast.kz</title></head><body>';
    for (let i = 0; body.length < 4096; i += 1) body += `<p class="c${i}">news ${i} from Almaty</p>\n`;
    // Every body fingerprint but the few tested directly and a handful of gram hits is skipped.
    expect(bodyCandidates(index, body).length).toBeLessThan(40);
  });

  it('sees a fingerprint list that changed since it was indexed', () => {
    const csv = (patterns: string[]): string =>
      ['name,scope,location_found,pattern_type,pattern,confidence_no_fp,expected_countries', ...patterns.map((p, i) => `f${i},nat,body,contains,${p},5,KZ`)].join('\n');
    const many = Array.from({ length: MIN_INDEXED_FINGERPRINTS + 8 }, (_, i) => `blockpage number ${i}!`);
    const list = [...loadFingerprints(csv(many), '').http];
    const response = { body: 'this is the Qaznet blockpage', bodyComplete: true, headers: [] };
    expect(matchHttpFingerprints(list, response)).toEqual([]);
    // Same array, one element replaced (readonly in type, not at run time).
    const replacement = loadFingerprints(csv(['Qaznet blockpage']), '').http[0];
    expect(replacement).toBeDefined();
    if (replacement !== undefined) list[3] = replacement;
    expect(matchHttpFingerprints(list, response).map((f) => f.pattern)).toEqual(['Qaznet blockpage']);
  });
});
