import { InvalidArgumentError } from '../errors.js';
import { parseCsv } from '../testlists/csv.js';

/**
 * Parse CSV with a header row into objects keyed by column name (reference
 * data: OONI fingerprints). Unlike test lists, reference data must be whole:
 * a malformed record, a missing required column or a record with the wrong
 * number of fields throws, naming the line.
 */
export function parseCsvObjects(text: string, required: readonly string[], source: string): Record<string, string>[] {
  const { records, problems } = parseCsv(text);
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
