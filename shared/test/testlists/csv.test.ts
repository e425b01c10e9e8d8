import { describe, expect, it } from 'vitest';
import { csvField, parseCsv } from '../../src/testlists/csv.js';

describe('parseCsv (RFC 4180)', () => {
  it('splits plain records and fields, LF and CRLF alike', () => {
    const { records, problems } = parseCsv('a,b,c\r\n1,2,3\n4,5,6\n');
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
      { line: 3, fields: ['4', '5', '6'] },
    ]);
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields, and counts lines', () => {
    const text = 'a,b\n"x, y","say ""hi"""\n"multi\nline",z\nlast,row\n';
    const { records, problems } = parseCsv(text);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', 'z'],
      ['last', 'row'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it('keeps empty fields, a trailing empty field, and a last line without newline', () => {
    expect(parseCsv('a,,c\nd,e,').records.map((r) => r.fields)).toEqual([
      ['a', '', 'c'],
      ['d', 'e', ''],
    ]);
  });

  it('skips blank lines and a BOM', () => {
    const { records } = parseCsv('\ufeffh1,h2\n\n1,2\n\r\n');
    expect(records.map((r) => r.fields)).toEqual([
      ['h1', 'h2'],
      ['1', '2'],
    ]);
  });

  it('reports a stray quote in an unquoted field with its line, and keeps the other rows', () => {
    const { records, problems } = parseCsv('h\nok\nbad"x\nfine\n');
    expect(records.map((r) => r.fields[0])).toEqual(['h', 'ok', 'fine']);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.line).toBe(3);
    expect(problems[0]?.message).toMatch(/double quote/);
  });

  it('reports text after a closing quote', () => {
    const { records, problems } = parseCsv('"a"b,c\nnext,row\n');
    expect(problems).toEqual([{ line: 1, message: expect.stringMatching(/after a closing quote/) as unknown as string }]);
    expect(records.map((r) => r.fields)).toEqual([['next', 'row']]);
  });

  it('reports an unterminated quote with the line it starts on', () => {
    const { records, problems } = parseCsv('h\nfine\n"never closed,\nmore\n');
    expect(records.map((r) => r.fields)).toEqual([['h'], ['fine']]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.line).toBe(3);
    expect(problems[0]?.message).toMatch(/unterminated/);
  });

  it('csvField round-trips through the parser', () => {
    const values = ['plain', 'a,b', 'say "x"', 'two\nlines', ''];
    const line = values.map(csvField).join(',');
    expect(parseCsv(`${line}\n`).records[0]?.fields).toEqual(values);
  });
});
