import { InvalidArgumentError, VERDICTS, isFailure, isVerdict } from '@steppe/shared';
import { MEASUREMENT_SOURCES, type MeasurementFilter, type MeasurementSource } from '../store/store.js';

/**
 * The measurement filters of exports and snapshots: the same parameters as
 * `GET /api/v1/measurements` (since, until, probe_asn, probe_cc, domain,
 * input, category_code, test_name, verdict, anomaly, confirmed) plus
 * `source` and `received_before`, which pins a query to what the collector
 * had received at that instant so a dataset can be rebuilt exactly.
 */
export const EXPORT_QUERY_PARAMETERS = [
  'since',
  'until',
  'probe_asn',
  'probe_cc',
  'domain',
  'input',
  'category_code',
  'test_name',
  'verdict',
  'anomaly',
  'confirmed',
  'failure',
  'source',
  'received_before',
] as const;

/** A parameter name. */
export type ExportQueryParameter = (typeof EXPORT_QUERY_PARAMETERS)[number];

/** The query as written into a snapshot manifest: canonical, JSON-friendly, absent filters left out. */
export interface CanonicalQuery {
  since?: string;
  until?: string;
  received_before?: string;
  probe_asn?: string[];
  probe_cc?: string[];
  domain?: string[];
  input?: string[];
  category_code?: string[];
  test_name?: string[];
  verdict?: string[];
  anomaly?: boolean;
  confirmed?: boolean;
  /** true/false (some step failed or not), or failure strings. */
  failure?: boolean | string[];
  source?: string[];
}

/** A parsed export query. */
export interface ExportQuery {
  readonly filter: MeasurementFilter;
  readonly canonical: CanonicalQuery;
}

/** Error of a bad parameter; the message names it ("parameter" for HTTP, "option" for the CLI). */
export class ExportQueryError extends InvalidArgumentError {
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.parameter = parameter;
  }
}

const MAX_VALUES = 1_000;
// Lists are comma-separated or repeated; inputs (URLs may hold commas) only repeated.
const LIST_PARAMETERS: ReadonlySet<string> = new Set(['probe_asn', 'probe_cc', 'domain', 'category_code', 'test_name', 'verdict', 'failure', 'source']);
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/** Options of `parseExportQuery`. */
export interface ParseQueryOptions {
  /** How bad input is named in messages: "parameter" (HTTP) or "option" (CLI, `--probe-asn`). */
  readonly naming?: 'parameter' | 'option';
  /** Other parameters the caller handles itself (e.g. "gzip"); anything else unknown is refused. */
  readonly extra?: readonly string[];
}

/**
 * Parse and validate export filters from query-string style pairs. Unknown
 * parameters are refused (a typo must not silently widen a dataset); every
 * message names the parameter and the expected form.
 */
export function parseExportQuery(params: URLSearchParams, options: ParseQueryOptions = {}): ExportQuery {
  const naming = options.naming ?? 'parameter';
  const label = (name: string): string => (naming === 'option' ? `option --${name.replace(/_/g, '-')}` : `parameter "${name}"`);
  const fail = (name: string, expected: string, got: string): never => {
    throw new ExportQueryError(name, `${label(name)}: expected ${expected}, got ${show(got)}`);
  };
  const known: ReadonlySet<string> = new Set([...EXPORT_QUERY_PARAMETERS, ...(options.extra ?? [])]);
  for (const name of new Set(params.keys())) {
    if (!known.has(name)) {
      throw new ExportQueryError(name, `${label(name)} is not a known filter (known: ${EXPORT_QUERY_PARAMETERS.join(', ')})`);
    }
  }
  const values = (name: string): string[] => {
    const raw = params.getAll(name);
    const out = LIST_PARAMETERS.has(name) ? raw.flatMap((v) => v.split(',')) : raw;
    const trimmed = out.map((v) => v.trim()).filter((v) => v.length > 0);
    if (trimmed.length > MAX_VALUES) fail(name, `at most ${MAX_VALUES} values`, `${trimmed.length} values`);
    return [...new Set(trimmed)];
  };
  const single = (name: string): string | undefined => {
    const all = params.getAll(name);
    if (all.length > 1) fail(name, 'a single value', all.join(','));
    return all[0];
  };
  const time = (name: string): number | undefined => {
    const text = single(name);
    if (text === undefined) return undefined;
    // As GET /api/v1/measurements: a date is UTC midnight, a date-time without an offset is UTC.
    const m = DATE_TIME.exec(text);
    const ms = DATE_ONLY.test(text) ? Date.parse(`${text}T00:00:00Z`) : m !== null ? Date.parse(m[1] === undefined ? `${text}Z` : text) : Number.NaN;
    if (!Number.isFinite(ms)) fail(name, 'an ISO 8601 date (2020-12-06) or date-time (2020-12-06T10:02:00Z; UTC unless an offset is given)', text);
    return ms;
  };
  const bool = (name: string): boolean | undefined => {
    const text = single(name);
    if (text === undefined) return undefined;
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return fail(name, 'true or false', text);
  };

  const filter: { -readonly [K in keyof MeasurementFilter]: MeasurementFilter[K] } = {};
  const canonical: CanonicalQuery = {};
  const since = time('since');
  const until = time('until');
  const receivedBefore = time('received_before');
  if (since !== undefined && until !== undefined && since >= until) fail('until', `a time after since (${new Date(since).toISOString()})`, new Date(until).toISOString());
  if (since !== undefined) {
    filter.since = since;
    canonical.since = new Date(since).toISOString();
  }
  if (until !== undefined) {
    filter.until = until;
    canonical.until = new Date(until).toISOString();
  }
  if (receivedBefore !== undefined) {
    filter.receivedBefore = receivedBefore;
    canonical.received_before = new Date(receivedBefore).toISOString();
  }

  const asns = values('probe_asn').map((v) => {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(v);
    const n = Number(m?.[1]);
    if (m === null || !Number.isSafeInteger(n) || n >= 2 ** 32) fail('probe_asn', 'an AS number such as AS9198 or 9198', v);
    return n;
  });
  if (asns.length > 0) {
    filter.probeAsns = asns;
    canonical.probe_asn = asns.map((n) => `AS${n}`);
  }
  const ccs = values('probe_cc').map((v) => {
    if (!/^[A-Za-z]{2}$/.test(v)) fail('probe_cc', 'a two-letter country code such as KZ', v);
    return v.toUpperCase();
  });
  if (ccs.length > 0) filter.probeCcs = canonical.probe_cc = ccs;
  const domains = values('domain').map((v) => {
    if (v.length > 253 || !/^[A-Za-z0-9._:[\]-]+$/.test(v)) fail('domain', 'a host name such as www.youtube.com', v);
    return v.toLowerCase();
  });
  if (domains.length > 0) filter.domains = canonical.domain = domains;
  const inputs = values('input').map((v) => {
    if (v.length > 4096) fail('input', 'a URL of at most 4096 characters', v);
    return v;
  });
  if (inputs.length > 0) filter.inputs = canonical.input = inputs;
  const categories = values('category_code').map((v) => {
    if (!/^[A-Za-z_]{1,16}$/.test(v)) fail('category_code', 'a category code such as GRP or NEWS', v);
    return v.toUpperCase();
  });
  if (categories.length > 0) filter.categoryCodes = canonical.category_code = categories;
  const testNames = values('test_name').map((v) => {
    if (!/^[a-z0-9_]{1,64}$/.test(v)) fail('test_name', 'a test name such as web_connectivity', v);
    return v;
  });
  if (testNames.length > 0) filter.testNames = canonical.test_name = testNames;
  const verdicts = values('verdict').map((v) => {
    if (!isVerdict(v)) fail('verdict', `one of ${VERDICTS.join(', ')}`, v);
    return v;
  });
  if (verdicts.length > 0) filter.verdicts = canonical.verdict = verdicts;
  const anomaly = bool('anomaly');
  if (anomaly !== undefined) filter.anomaly = canonical.anomaly = anomaly;
  const confirmed = bool('confirmed');
  if (confirmed !== undefined) filter.confirmed = canonical.confirmed = confirmed;
  const failures = values('failure');
  if (failures.length === 1 && (failures[0] === 'true' || failures[0] === 'false')) {
    filter.failed = canonical.failure = failures[0] === 'true';
  } else if (failures.length > 0) {
    for (const f of failures) if (!isFailure(f)) fail('failure', 'true, false, or failure strings such as connection_reset', f);
    filter.failures = canonical.failure = failures;
  }
  const sources = values('source').map((v) => {
    if (!(MEASUREMENT_SOURCES as readonly string[]).includes(v)) fail('source', `one of ${MEASUREMENT_SOURCES.join(', ')}`, v);
    return v as MeasurementSource;
  });
  if (sources.length > 0) filter.sources = canonical.source = sources;
  return { filter, canonical: orderedQuery(canonical) };
}

/** The same query with its keys in the order of EXPORT_QUERY_PARAMETERS, so equal queries serialize equally. */
export function orderedQuery(query: CanonicalQuery): CanonicalQuery {
  const out: Record<string, unknown> = {};
  for (const key of EXPORT_QUERY_PARAMETERS) {
    const value = (query as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as CanonicalQuery;
}

/** The filter of a canonical query (as read back from a manifest). */
export function queryFromCanonical(canonical: CanonicalQuery): ExportQuery {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(canonical)) {
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else if (value !== undefined) params.append(key, String(value));
  }
  return parseExportQuery(params);
}
