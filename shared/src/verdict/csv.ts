import { InvalidArgumentError } from '../errors.js';
import { type CsvParseResult, parseCsv } from '../testlists/csv.js';

/**
 * The fields of one record (its line break removed) when it is well-formed
 * RFC 4180 (§2.5-2.7: a field is either plain, without quotes, or quoted,
 * with "" for a quote); undefined on anything else, for parseCsv to report.
 */
function splitRecord(record: string): string[] | undefined {
  const fields: string[] = [];
  const n = record.length;
  let i = 0;
  for (;;) {
    if (record.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = record.indexOf('"', from);
        if (quote === -1) return undefined;
        if (record.charCodeAt(quote + 1) === 0x22) {
          value += record.slice(from, quote + 1);
          from = quote + 2;
          continue;
        }
        value += record.slice(from, quote);
        i = quote + 1;
        break;
      }
      fields.push(value);
    } else {
      const comma = record.indexOf(',', i);
      const end = comma === -1 ? n : comma;
      const field = record.slice(i, end);
      if (field.includes('"')) return undefined;
      fields.push(field);
      i = end;
    }
    if (i === n) return fields;
    if (record.charCodeAt(i) !== 0x2c) return undefined;
    i += 1;
    // A comma at the very end still opens one more (empty) field.
    if (i === n) {
      fields.push('');
      return fields;
    }
  }
}

/**
 * parseCsv's records and problems, without building each field a character
 * at a time (parseCsv took ~100 ms and left ~5 MiB of garbage for OONI's
 * 283 kB fingerprint file; this takes a few ms). Records are found by their
 * line breaks outside quotes (RFC 4180 §2.6: only a quoted field may hold
 * one), and their fields are sliced out; a record that is not well-formed
 * is handed to the strict parseCsv, so problems are reported exactly as
 * parseCsv reports them (and at the same line: every record before it was
 * well-formed).
 */
export function readCsvRecords(text: string): CsvParseResult {
  const records: CsvParseResult['records'] = [];
  const problems: CsvParseResult['problems'] = [];
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  // The next quote at or after a position, remembered: quotes are rare, and
  // searching for one from every record would rescan the text in between.
  let quoteFrom = -1;
  let quoteAt = -1;
  const nextQuote = (from: number): number => {
    if (from > quoteAt || from <= quoteFrom) {
      quoteFrom = from;
      quoteAt = text.indexOf('"', from);
      if (quoteAt === -1) quoteAt = n;
    }
    return quoteAt === n ? -1 : quoteAt;
  };
  while (pos < n) {
    // The record's end: the first LF not inside quotes (each quote toggles;
    // a doubled quote toggles twice).
    let end = pos;
    let quoted = false;
    let hasQuote = false;
    let breaks = 0;
    for (;;) {
      const quote = nextQuote(end);
      if (quoted) {
        if (quote === -1) {
          end = n;
          break;
        }
        for (let lf = text.indexOf('\n', end); lf !== -1 && lf < quote; lf = text.indexOf('\n', lf + 1)) breaks += 1;
        quoted = false;
        end = quote + 1;
        continue;
      }
      const lf = text.indexOf('\n', end);
      if (quote !== -1 && (lf === -1 || quote < lf)) {
        hasQuote = true;
        quoted = true;
        end = quote + 1;
        continue;
      }
      end = lf === -1 ? n : lf;
      break;
    }
    const startLine = line;
    const hasLf = end < n;
    const next = hasLf ? end + 1 : n;
    // A CR is part of the line break only right before the LF (as in parseCsv).
    const stop = hasLf && end > pos && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    const fields = hasQuote ? splitRecord(text.slice(pos, stop)) : stop > pos || !hasLf ? text.slice(pos, stop).split(',') : [];
    if (fields === undefined || (quoted && end === n)) {
      // Not well-formed: parseCsv says why. After a blank line (skipped,
      // then subtracted), so that a U+FEFF opening the record stays data
      // instead of being taken for a byte order mark.
      const chunk = parseCsv(`\n${text.slice(pos, next)}`);
      for (const r of chunk.records) records.push({ line: startLine + r.line - 2, fields: r.fields });
      for (const p of chunk.problems) problems.push({ line: startLine + p.line - 2, message: p.message });
    } else if (fields.length > 0) {
      records.push({ line: startLine, fields });
    }
    line += breaks + (hasLf ? 1 : 0);
    pos = next;
  }
  return { records, problems };
}

/**
 * Parse CSV with a header row into objects keyed by column name (reference
 * data: OONI fingerprints). Unlike test lists, reference data must be whole:
 * a malformed record, a missing required column or a record with the wrong
 * number of fields throws, naming the line.
 */
export function parseCsvObjects(text: string, required: readonly string[], source: string): Record<string, string>[] {
  const { records, problems } = readCsvRecords(text);
  const problem = problems[0];
  if (problem !== undefined) throw new InvalidArgumentError(`${source}: line ${problem.line}: ${problem.message}`);
  const [header, ...rows] = records;
  if (header === undefined) throw new InvalidArgumentError(`${source}: empty CSV (expected a header row)`);
  const columns = header.fields.map((h) => h.trim());
  const missing = required.filter((r) => !columns.includes(r));
  if (missing.length > 0) {
    throw new InvalidArgumentError(`${source}: missing column(s) ${missing.join(', ')} (header: ${columns.join(',')})`);
  }
  return rows.map((row) => {
    if (row.fields.length !== columns.length) {
      throw new InvalidArgumentError(`${source}: line ${row.line} has ${row.fields.length} fields, the header has ${columns.length}`);
    }
    const out: Record<string, string> = {};
    columns.forEach((name, c) => {
      out[name] = row.fields[c] ?? '';
    });
    return out;
  });
}
