import { parseCsvObjects } from './csv.js';
import { type FingerprintIndex, MIN_INDEXED_FINGERPRINTS, bodyCandidates, buildFingerprintIndex, indexMatches } from './fingerprint-index.js';

/**
 * Blockpage fingerprints in the format of ooni/blocking-fingerprints
 * (fingerprints_http.csv / fingerprints_dns.csv; schema in that repository's
 * Readme): `name,scope,other_names,location_found,pattern_type,pattern,
 * confidence_no_fp,expected_countries,source,exp_url,notes`.
 */

/** How a fingerprint's pattern is compared with the value found. */
export type PatternType = 'full' | 'prefix' | 'contains' | 'regexp';

/**
 * What a match means, from the `scope` column:
 * - `strong`: a national/ISP/product/institution blockpage (nat, isp, prod,
 *   inst, and any other scope): a match is a confirmed blockpage;
 * - `vague`: `vbw`, a "vague blocking word": counts only when the response
 *   also differs from the control, and never confirms;
 * - `false_positive`: `fp`, "fingerprint for false positives": describes an
 *   ordinary page (hosting defaults, error pages, popular titles) and is never
 *   taken as a blockpage.
 */
export type FingerprintStrength = 'strong' | 'vague' | 'false_positive';

/** One blockpage fingerprint. */
export interface Fingerprint {
  /** e.g. "ooni.kz_1", "cp.d_corp_kz_ps". */
  readonly name: string;
  readonly scope: string;
  readonly strength: FingerprintStrength;
  /** Where the pattern is looked for. */
  readonly location: 'body' | 'dns' | 'header';
  /** Lowercase header name for `header.<name>` locations, '' otherwise. */
  readonly headerName: string;
  readonly patternType: PatternType;
  readonly pattern: string;
  /** `confidence_no_fp`: the curators' 0-10 confidence that a match is not a false positive. */
  readonly confidence: number;
  readonly expectedCountries: readonly string[];
  readonly source: string;
  /** Compiled pattern for `regexp` fingerprints. */
  readonly regexp: RegExp | undefined;
}

/** A row the loader could not use, and why. */
export interface SkippedFingerprint {
  readonly file: 'http' | 'dns';
  readonly name: string;
  readonly reason: string;
}

/** Fingerprints loaded from the two CSV files. */
export interface FingerprintSet {
  readonly http: readonly Fingerprint[];
  readonly dns: readonly Fingerprint[];
  /** Rows with an unknown pattern type or location, or a regexp JavaScript cannot compile. */
  readonly skipped: readonly SkippedFingerprint[];
}

const COLUMNS = ['name', 'scope', 'location_found', 'pattern_type', 'pattern', 'confidence_no_fp', 'expected_countries'] as const;
const PATTERN_TYPES: readonly string[] = ['full', 'prefix', 'contains', 'regexp'];

function strengthOf(scope: string): FingerprintStrength {
  if (scope === 'fp') return 'false_positive';
  if (scope === 'vbw') return 'vague';
  return 'strong';
}

function parseRows(text: string, file: 'http' | 'dns', skipped: SkippedFingerprint[]): Fingerprint[] {
  const rows = parseCsvObjects(text, COLUMNS, `fingerprints_${file}.csv`);
  const out: Fingerprint[] = [];
  for (const row of rows) {
    const name = (row['name'] ?? '').trim();
    const location = (row['location_found'] ?? '').trim();
    const patternType = (row['pattern_type'] ?? '').trim();
    const pattern = row['pattern'] ?? '';
    const skip = (reason: string): void => {
      skipped.push({ file, name, reason });
    };
    if (name === '' || pattern === '') {
      skip('empty name or pattern');
      continue;
    }
    if (!PATTERN_TYPES.includes(patternType)) {
      skip(`unknown pattern_type ${JSON.stringify(patternType)}`);
      continue;
    }
    let kind: Fingerprint['location'];
    let headerName = '';
    if (location === 'body' || location === 'dns') {
      kind = location;
    } else if (location.startsWith('header.') && location.length > 'header.'.length) {
      kind = 'header';
      headerName = location.slice('header.'.length).toLowerCase();
    } else {
      skip(`unknown location_found ${JSON.stringify(location)}`);
      continue;
    }
    if ((file === 'dns') !== (kind === 'dns')) {
      skip(`location_found ${JSON.stringify(location)} does not belong in fingerprints_${file}.csv`);
      continue;
    }
    let regexp: RegExp | undefined;
    if (patternType === 'regexp') {
      try {
        // Python's re.search semantics: unanchored, '.' does not match a newline.
        regexp = new RegExp(pattern, 'u');
      } catch {
        try {
          regexp = new RegExp(pattern);
        } catch (cause) {
          skip(`regexp does not compile in JavaScript: ${cause instanceof Error ? cause.message : String(cause)}`);
          continue;
        }
      }
    }
    const scope = (row['scope'] ?? '').trim();
    const confidence = Number((row['confidence_no_fp'] ?? '').trim());
    out.push({
      name,
      scope,
      strength: strengthOf(scope),
      location: kind,
      headerName,
      patternType: patternType as PatternType,
      pattern,
      confidence: Number.isFinite(confidence) ? confidence : 0,
      expectedCountries: (row['expected_countries'] ?? '').split(',').map((c) => c.trim()).filter((c) => c.length > 0),
      source: (row['source'] ?? '').trim(),
      regexp,
    });
  }
  return out;
}

/**
 * Load fingerprints from the text of fingerprints_http.csv and
 * fingerprints_dns.csv (either may be '' for none). Throws
 * InvalidArgumentError when a file is not CSV with the expected columns;
 * individual unusable rows are listed in `skipped`.
 */
export function loadFingerprints(httpCsvText: string, dnsCsvText: string): FingerprintSet {
  const skipped: SkippedFingerprint[] = [];
  const http = httpCsvText.trim() === '' ? [] : parseRows(httpCsvText, 'http', skipped);
  const dns = dnsCsvText.trim() === '' ? [] : parseRows(dnsCsvText, 'dns', skipped);
  return { http, dns, skipped };
}

/**
 * True when `value` matches the fingerprint's pattern. `complete` says whether
 * `value` is the whole value (a body capped at a prefix is not): a `full`
 * pattern only matches a complete value.
 */
export function matchesPattern(fp: Fingerprint, value: string, complete = true): boolean {
  switch (fp.patternType) {
    case 'full':
      return complete && value === fp.pattern;
    case 'prefix':
      return value.startsWith(fp.pattern);
    case 'contains':
      return value.includes(fp.pattern);
    case 'regexp':
      return fp.regexp !== undefined && fp.regexp.test(value);
    default:
      return false;
  }
}

/** An HTTP response as the fingerprints see it. */
export interface FingerprintableResponse {
  /** Decoded body text (or its prefix). */
  readonly body: string;
  /** True when `body` is the whole body, not a prefix. */
  readonly bodyComplete: boolean;
  readonly headers: readonly { readonly name?: string | null; readonly value?: string | null }[];
}

// The index of each long fingerprint list (the bundled reference's), built
// on first use; see fingerprint-index.ts.
const indexes = new WeakMap<readonly Fingerprint[], FingerprintIndex>();

function indexOf(fingerprints: readonly Fingerprint[]): FingerprintIndex | undefined {
  if (fingerprints.length < MIN_INDEXED_FINGERPRINTS) return undefined;
  let index = indexes.get(fingerprints);
  if (index === undefined || !indexMatches(index, fingerprints)) {
    index = buildFingerprintIndex(fingerprints);
    indexes.set(fingerprints, index);
  }
  return index;
}

/** Every HTTP fingerprint (of any strength) that matches the response, in file order. */
export function matchHttpFingerprints(fingerprints: readonly Fingerprint[], response: FingerprintableResponse): Fingerprint[] {
  const headers = new Map<string, string[]>();
  for (const h of response.headers) {
    const name = (h.name ?? '').toLowerCase();
    if (name === '') continue;
    headers.set(name, [...(headers.get(name) ?? []), h.value ?? '']);
  }
  const matches = (fp: Fingerprint): boolean => {
    if (fp.location === 'body') return response.body !== '' && matchesPattern(fp, response.body, response.bodyComplete);
    if (fp.location === 'header') return (headers.get(fp.headerName) ?? []).some((v) => matchesPattern(fp, v));
    return false;
  };
  const index = indexOf(fingerprints);
  if (index === undefined) return fingerprints.filter(matches);
  // Only the candidates can match; test them, then restore file order.
  const candidates = response.body !== '' ? bodyCandidates(index, response.body) : [];
  for (const name of headers.keys()) candidates.push(...(index.byHeader.get(name) ?? []));
  const found = candidates.filter((i) => {
    const fp = fingerprints[i];
    return fp !== undefined && matches(fp);
  });
  return found.sort((a, b) => a - b).flatMap((i) => fingerprints[i] ?? []);
}

/** Every DNS fingerprint that matches an answer value (an address or a CNAME target). */
export function matchDnsFingerprints(fingerprints: readonly Fingerprint[], value: string): Fingerprint[] {
  const normalized = value.trim().replace(/\.$/, '');
  return fingerprints.filter((fp) => fp.location === 'dns' && (matchesPattern(fp, value) || matchesPattern(fp, normalized)));
}

/**
 * Decode a captured body for matching: the charset named in the
 * Content-Type header when the platform knows it (windows-1251 and KOI8-R
 * blockpages exist), UTF-8 otherwise; malformed bytes become U+FFFD.
 */
export function decodeBody(bytes: Uint8Array, contentType: string): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // Unknown label: fall through to UTF-8.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}
