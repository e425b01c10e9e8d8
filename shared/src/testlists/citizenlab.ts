import { parseCsv } from './csv.js';

/**
 * Citizen Lab test-list format (https://github.com/citizenlab/test-lists,
 * lists/README): one URL per row with its category.
 */
export const CITIZEN_LAB_HEADER = ['url', 'category_code', 'category_description', 'date_added', 'source', 'notes'] as const;

/** One URL of a test list. */
export interface TestListEntry {
  readonly url: string;
  readonly categoryCode: string;
  readonly categoryDescription: string;
  /** YYYY-MM-DD. */
  readonly dateAdded: string;
  readonly source: string;
  readonly notes: string;
  /** Line of the file the row starts on. */
  readonly line: number;
}

/** A row that was reported and skipped. */
export interface TestListProblem {
  readonly line: number;
  readonly message: string;
}

/** A parsed list: the good rows and every bad row, reported by line. */
export interface ParsedTestList {
  readonly name: string;
  readonly entries: TestListEntry[];
  readonly problems: TestListProblem[];
}

/** Longest URL accepted (the wire format caps `input` at 4096). */
const MAX_URL_LENGTH = 2048;
const CATEGORY_CODE = /^[A-Z]{2,8}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why `text` is not an http(s) URL we can measure, or undefined when it is. */
export function urlProblem(text: string): string | undefined {
  if (text.length === 0) return 'url is empty';
  if (text.length > MAX_URL_LENGTH) return `url is longer than ${MAX_URL_LENGTH} characters`;
  if (text !== text.trim()) return 'url has leading or trailing spaces';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `url ${JSON.stringify(text.slice(0, 80))} is not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url ${JSON.stringify(text.slice(0, 80))} is not http:// or https://`;
  if (url.hostname === '') return `url ${JSON.stringify(text.slice(0, 80))} has no host`;
  if (url.username !== '' || url.password !== '') return 'url must not carry credentials';
  return undefined;
}

/**
 * Parse a Citizen Lab CSV test list. Throws nothing: a wrong header makes
 * every row a problem (reported once at line 1), and each bad row (wrong
 * number of columns, bad URL, bad category code or date, a duplicate URL)
 * is reported with its line and skipped — never dropped silently.
 */
export function parseTestList(text: string, name: string): ParsedTestList {
  const { records, problems: csvProblems } = parseCsv(text);
  const problems: TestListProblem[] = csvProblems.map((p) => ({ line: p.line, message: p.message }));
  const entries: TestListEntry[] = [];
  const [header, ...rows] = records;
  if (header === undefined) {
    problems.push({ line: 1, message: `empty file: expected the header ${CITIZEN_LAB_HEADER.join(',')}` });
    return { name, entries, problems: sortByLine(problems) };
  }
  const headerText = header.fields.map((f) => f.trim()).join(',');
  if (headerText !== CITIZEN_LAB_HEADER.join(',')) {
    problems.push({
      line: header.line,
      message: `bad header ${JSON.stringify(headerText.slice(0, 120))}: expected ${CITIZEN_LAB_HEADER.join(',')}`,
    });
    return { name, entries, problems: sortByLine(problems) };
  }
  const seen = new Map<string, number>();
  for (const { line, fields } of rows) {
    if (fields.length !== CITIZEN_LAB_HEADER.length) {
      problems.push({ line, message: `expected ${CITIZEN_LAB_HEADER.length} columns, got ${fields.length}` });
      continue;
    }
    const [url = '', categoryCode = '', categoryDescription = '', dateAdded = '', source = '', notes = ''] = fields;
    const bad = urlProblem(url);
    if (bad !== undefined) {
      problems.push({ line, message: bad });
      continue;
    }
    if (!CATEGORY_CODE.test(categoryCode)) {
      problems.push({ line, message: `category_code ${JSON.stringify(categoryCode.slice(0, 20))} is not 2-8 capital letters` });
      continue;
    }
    if (dateAdded !== '' && !DATE.test(dateAdded)) {
      problems.push({ line, message: `date_added ${JSON.stringify(dateAdded.slice(0, 20))} is not YYYY-MM-DD` });
      continue;
    }
    const first = seen.get(url);
    if (first !== undefined) {
      problems.push({ line, message: `duplicate url ${url} (first on line ${first})` });
      continue;
    }
    seen.set(url, line);
    entries.push({ url, categoryCode, categoryDescription, dateAdded, source, notes, line });
  }
  return { name, entries, problems: sortByLine(problems) };
}

function sortByLine(problems: TestListProblem[]): TestListProblem[] {
  return problems.sort((a, b) => a.line - b.line);
}
