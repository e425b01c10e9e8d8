import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/testlists/csv.js';
import { readCsvRecords } from '../../src/verdict/csv.js';
import { referenceDataUrl } from '../../src/index.js';

// readCsvRecords is parseCsv made fast for reference data: it must give the
// same records and, on malformed input, the same first problem at the same
// line (parseCsvObjects throws on the first problem), with the same records
// before it.
function expectSameAsParseCsv(text: string): void {
  const strict = parseCsv(text);
  const fast = readCsvRecords(text);
  const first = strict.problems[0];
  if (first === undefined) {
    expect(fast).toEqual(strict);
    return;
  }
  expect(fast.problems[0]).toEqual(first);
  expect(fast.records.filter((r) => r.line < first.line)).toEqual(strict.records.filter((r) => r.line < first.line));
}

describe('readCsvRecords (reference data CSV)', () => {
  it('reads the bundled OONI fingerprint files exactly as parseCsv does (LF and CRLF)', () => {
    for (const file of ['fingerprints/fingerprints_http.csv', 'fingerprints/fingerprints_dns.csv']) {
      const text = readFileSync(referenceDataUrl(file), 'utf8');
      const records = readCsvRecords(text);
      expect(records.records.length).toBeGreaterThan(200);
      expect(records).toEqual(parseCsv(text));
      expectSameAsParseCsv(text.replace(/\n/g, '\r\n'));
    }
  });

  it('handles quoted commas, line breaks, doubled quotes, CRLF, a BOM and blank lines', () => {
    const text = '\ufeffa,b,c\r\n"x, y","multi\nline",plain\n\n"say ""hi""",,\n\r\nlast,"\ufeffq",\r\n';
    expect(readCsvRecords(text)).toEqual({
      records: [
        { line: 1, fields: ['a', 'b', 'c'] },
        { line: 2, fields: ['x, y', 'multi\nline', 'plain'] },
        { line: 5, fields: ['say "hi"', '', ''] },
        { line: 7, fields: ['last', '\ufeffq', ''] },
      ],
      problems: [],
    });
    expectSameAsParseCsv(text);
  });

  it('reports malformed records like parseCsv: unterminated quote, text after a closing quote, a stray quote', () => {
    for (const text of ['a\n"open,b\nc\n', 'a,b\n"x"y,z\n', 'a,b\nx"y,z\nq\n', 'a\n\ufeff"b\n']) {
      expectSameAsParseCsv(text);
      expect(readCsvRecords(text).problems.length).toBeGreaterThan(0);
    }
  });

  it('agrees with parseCsv on arbitrary text made of CSV metacharacters', () => {
    const piece = fc.constantFrom('a', 'bc', ',', '"', '""', '\n', '\r', '\r\n', '\ufeff', 'é', ' ', '😀');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        expectSameAsParseCsv(pieces.join(''));
      }),
      { numRuns: 3000 },
    );
  });
});
