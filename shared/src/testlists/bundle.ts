import { SteppeError } from '../errors.js';
import { type ParsedTestList, parseTestList } from './citizenlab.js';

/**
 * Test lists pushed by a collector: `GET {collector}/api/v1/test-lists/{version}`
 * answers this JSON document (docs/cli.md, "Test lists pushed by the collector"):
 *
 * ```json
 * { "format": "steppe-test-lists/1",
 *   "version": "2026-07-01.1",
 *   "lists": [ { "name": "kz", "csv": "url,category_code,...\n..." },
 *              { "name": "global", "csv": "..." },
 *              { "name": "core", "csv": "..." } ] }
 * ```
 * Each `csv` is a Citizen Lab CSV list. A list named "core" replaces the
 * built-in core list; other names replace the shipped list of that name or
 * add a new one (measured when named in the config's `testLists.lists`).
 */
export const TEST_LIST_BUNDLE_FORMAT = 'steppe-test-lists/1';

/** Largest bundle accepted (the shipped lists together are about 230 KB). */
export const MAX_BUNDLE_BYTES = 16 * 2 ** 20;

/** A test-list version string: safe in a URL path and a file name. */
export const TEST_LIST_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A validated bundle. */
export interface TestListBundle {
  readonly version: string;
  readonly lists: ParsedTestList[];
}

function reject(message: string): never {
  throw new SteppeError('STEPPE_ERR_TEST_LIST', `test-list bundle refused: ${message}`);
}

/**
 * Validate a pushed bundle, all or nothing: the JSON shape, the format tag,
 * the version (equal to the one asked for, when given), list names (unique),
 * and every row of every list. A list from our own collector has no excuse
 * for a bad row, so one bad row (a sign of corruption or tampering on the
 * way) refuses the whole bundle, and the lists in use are kept.
 * Throws SteppeError STEPPE_ERR_TEST_LIST naming the problem and its line.
 */
export function parseTestListBundle(text: string, expectedVersion?: string): TestListBundle {
  if (Buffer.byteLength(text, 'utf8') > MAX_BUNDLE_BYTES) reject(`larger than ${MAX_BUNDLE_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    reject(`not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) reject('expected a JSON object');
  const object = doc as Record<string, unknown>;
  const unknown = Object.keys(object).filter((k) => !['format', 'version', 'lists'].includes(k));
  if (unknown.length > 0) reject(`unknown field ${JSON.stringify(unknown[0])}`);
  if (object['format'] !== TEST_LIST_BUNDLE_FORMAT) {
    reject(`field "format": expected ${JSON.stringify(TEST_LIST_BUNDLE_FORMAT)}, got ${JSON.stringify(object['format'])}`);
  }
  const version = object['version'];
  if (typeof version !== 'string' || !TEST_LIST_VERSION_PATTERN.test(version)) {
    reject(`field "version": expected 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(version)}`);
  }
  if (expectedVersion !== undefined && version !== expectedVersion) {
    reject(`field "version": asked for ${JSON.stringify(expectedVersion)}, got ${JSON.stringify(version)}`);
  }
  const lists = object['lists'];
  if (!Array.isArray(lists) || lists.length === 0 || lists.length > 32) reject('field "lists": expected a list of 1 to 32 lists');
  const parsed: ParsedTestList[] = [];
  const names = new Set<string>();
  lists.forEach((item: unknown, i: number) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) reject(`field "lists[${i}]": expected an object with "name" and "csv"`);
    const entry = item as Record<string, unknown>;
    const extra = Object.keys(entry).filter((k) => k !== 'name' && k !== 'csv');
    if (extra.length > 0) reject(`field "lists[${i}]": unknown field ${JSON.stringify(extra[0])}`);
    const name = entry['name'];
    if (typeof name !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(name)) reject(`field "lists[${i}].name": expected a list name such as "kz", got ${JSON.stringify(name)}`);
    if (names.has(name)) reject(`field "lists[${i}].name": list ${JSON.stringify(name)} appears twice`);
    names.add(name);
    const csv = entry['csv'];
    if (typeof csv !== 'string') reject(`field "lists[${i}].csv": expected the list as Citizen Lab CSV text`);
    const list = parseTestList(csv, name);
    const first = list.problems[0];
    if (first !== undefined) {
      reject(`list ${JSON.stringify(name)} line ${first.line}: ${first.message}${list.problems.length > 1 ? ` (and ${list.problems.length - 1} more problems)` : ''}`);
    }
    if (list.entries.length === 0) reject(`list ${JSON.stringify(name)} has no URLs`);
    parsed.push(list);
  });
  return { version, lists: parsed };
}
