/**
 * A strict RFC 4180 CSV reader (https://www.rfc-editor.org/rfc/rfc4180):
 * comma-separated fields, double-quoted fields may hold commas, CR/LF and
 * doubled quotes (`""`). Lines may end in CRLF or LF. A pure function over
 * text: it never throws on bad input; each malformed record is reported with
 * the line it starts on and skipped, so one bad row never hides the others.
 */

/** One record and the (1-based) line of the file it starts on. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

/** A malformed record, with the line it starts on. */
export interface CsvProblem {
  readonly line: number;
  readonly message: string;
}

/** What {@link parseCsv} returns. */
export interface CsvParseResult {
  readonly records: CsvRecord[];
  readonly problems: CsvProblem[];
}

/**
 * Split CSV text into records. Empty lines are skipped (Citizen Lab files end
 * with a newline; some have blank lines). A leading UTF-8 BOM is ignored.
 */
export function parseCsv(text: string): CsvParseResult {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;

  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let problem: string | undefined;
    let field = '';
    let endOfRecord = false;

    // A record is blank when it is only a line break.
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line += 1;
      continue;
    }

    while (!endOfRecord) {
      if (text[i] === '"') {
        // Quoted field: runs to the matching quote; "" is a literal quote.
        i += 1;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i += 1;
            closed = true;
            break;
          }
          if (c === '\n') line += 1;
          field += c;
          i += 1;
        }
        if (!closed) {
          problem ??= 'unterminated quoted field (a " opens a field that never closes)';
          endOfRecord = true;
          fields.push(field);
          break;
        }
        // After a closing quote only a separator or the end of the record may follow.
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) {
          problem ??= `unexpected character ${JSON.stringify(next)} after a closing quote`;
          // Skip to the next separator or line end to resynchronise.
          while (i < n && text[i] !== ',' && text[i] !== '\n') i += 1;
        }
      } else {
        while (i < n) {
          const c = text[i];
          if (c === ',' || c === '\n' || (c === '\r' && text[i + 1] === '\n')) break;
          if (c === '"') problem ??= 'a double quote inside an unquoted field (quote the whole field and double the quote)';
          field += c;
          i += 1;
        }
      }
      fields.push(field);
      field = '';
      const c = text[i];
      if (c === ',') {
        // A comma at the very end of the input still opens one more (empty) field.
        i += 1;
      } else {
        if (c === '\r') i += 2;
        else if (c === '\n') i += 1;
        if (c === '\r' || c === '\n') line += 1;
        endOfRecord = true;
      }
    }

    if (problem === undefined) records.push({ line: startLine, fields });
    else problems.push({ line: startLine, message: problem });
  }
  return { records, problems };
}

/** Quote one field for output when it needs it (RFC 4180 §2.6-2.7). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
