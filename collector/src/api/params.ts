import { VERDICTS, isFailure } from '@steppe/shared';
import { badParameter } from '../http/router.js';
import { MEASUREMENT_SOURCES, type MeasurementSource, type RollupFilters } from '../store/store.js';

/**
 * Query-string parsing for the public API: each reader returns the typed
 * value or throws a 400 that names the parameter. Lists are comma-separated
 * and may also repeat (`?domain=a&domain=b`).
 */

/** Values of a parameter, comma lists and repeats flattened; undefined when absent. */
export function listParam(url: URL, name: string, max = 100): string[] | undefined {
  const raw = url.searchParams.getAll(name);
  if (raw.length === 0) return undefined;
  const values = raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  if (values.length === 0) throw badParameter(name, 'a non-empty value', raw.join(','));
  if (values.length > max) throw badParameter(name, `at most ${max} values`, raw.join(','));
  for (const v of values) if (v.length > 2048) throw badParameter(name, 'values of at most 2048 characters', v);
  return values;
}

/** A single value; undefined when absent. */
export function oneParam(url: URL, name: string): string | undefined {
  const raw = url.searchParams.getAll(name);
  if (raw.length === 0) return undefined;
  if (raw.length > 1) throw badParameter(name, 'one value', raw.join(','));
  return raw[0];
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** An instant: YYYY-MM-DD (UTC midnight) or an ISO 8601 date-time (UTC unless an offset is given). */
export function timeParam(url: URL, name: string): number | undefined {
  const v = oneParam(url, name);
  if (v === undefined) return undefined;
  let text = v;
  if (DATE_ONLY.test(v)) text = `${v}T00:00:00Z`;
  else if (DATE_TIME.test(v) && !/(Z|[+-]\d{2}:\d{2})$/.test(v)) text = `${v}Z`;
  else if (!DATE_TIME.test(v)) throw badParameter(name, 'a date (2020-12-06) or an ISO 8601 date-time (2020-12-06T04:00:00Z)', v);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw badParameter(name, 'a valid date', v);
  return ms;
}

/** since/until with defaults; 400 when until is not after since or the span is too long. */
export function rangeParams(url: URL, defaults: { since: number; until: number }, maxSpanMs?: number): { since: number; until: number } {
  const since = timeParam(url, 'since') ?? defaults.since;
  const until = timeParam(url, 'until') ?? defaults.until;
  if (until <= since) throw badParameter('until', 'a time after since', url.searchParams.get('until') ?? new Date(until).toISOString());
  if (maxSpanMs !== undefined && until - since > maxSpanMs) {
    throw badParameter('since', `a range of at most ${Math.round(maxSpanMs / 86_400_000)} days`, url.searchParams.get('since') ?? new Date(since).toISOString());
  }
  return { since, until };
}

export function booleanParam(url: URL, name: string): boolean | undefined {
  const v = oneParam(url, name);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badParameter(name, 'true or false', v);
}

export function integerParam(url: URL, name: string, min: number, max: number): number | undefined {
  const v = oneParam(url, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v) || Number(v) < min || Number(v) > max) throw badParameter(name, `an integer from ${min} to ${max}`, v);
  return Number(v);
}

export function oneOfParam<const T extends string>(url: URL, name: string, values: readonly T[]): T | undefined {
  const v = oneParam(url, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw badParameter(name, `one of ${values.join(', ')}`, v);
  return v as T;
}

/** ASNs as "AS9198" or "9198". */
export function asnParam(url: URL, name = 'probe_asn'): number[] | undefined {
  return listParam(url, name)?.map((v) => {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(v);
    const n = Number(m?.[1]);
    if (m === null || !Number.isInteger(n) || n > 4_294_967_295) throw badParameter(name, 'an AS number such as AS9198 or 9198', v);
    return n;
  });
}

/** ISO 3166-1 alpha-2 country codes, upper-cased. */
export function ccParam(url: URL, name = 'probe_cc'): string[] | undefined {
  return listParam(url, name)?.map((v) => {
    if (!/^[A-Za-z]{2}$/.test(v)) throw badParameter(name, 'a two-letter country code such as KZ', v);
    return v.toUpperCase();
  });
}

/** Domains, lower-cased. */
export function domainParam(url: URL, name = 'domain'): string[] | undefined {
  return listParam(url, name)?.map((v) => {
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(v)) throw badParameter(name, 'a domain name such as www.facebook.com', v);
    return v.toLowerCase();
  });
}

export function categoryParam(url: URL, name = 'category_code'): string[] | undefined {
  return listParam(url, name)?.map((v) => {
    if (!/^[A-Za-z]{2,8}$/.test(v)) throw badParameter(name, 'a Citizen Lab category code such as GRP', v);
    return v.toUpperCase();
  });
}

export function verdictParam(url: URL, name = 'verdict'): string[] | undefined {
  return listParam(url, name)?.map((v) => {
    if (!(VERDICTS as readonly string[]).includes(v)) throw badParameter(name, `one of ${VERDICTS.join(', ')}`, v);
    return v;
  });
}

export function sourceParam(url: URL, name = 'source'): MeasurementSource[] | undefined {
  return listParam(url, name)?.map((v) => {
    if (!(MEASUREMENT_SOURCES as readonly string[]).includes(v)) throw badParameter(name, `one of ${MEASUREMENT_SOURCES.join(', ')}`, v);
    return v as MeasurementSource;
  });
}

/** `failure`: true / false (some step failed or not), or failure strings of the vocabulary. */
export function failureParam(url: URL, name = 'failure'): { failed?: boolean; failures?: string[] } {
  const values = listParam(url, name);
  if (values === undefined) return {};
  if (values.length === 1 && (values[0] === 'true' || values[0] === 'false')) return { failed: values[0] === 'true' };
  for (const v of values) if (!isFailure(v)) throw badParameter(name, 'true, false, or failure strings such as connection_reset', v);
  return { failures: values };
}

/** The rollup filters of a timeline, episode or aggregation query (`domain`, `probe_asn`, `probe_cc`, `category_code`, `source`); absent ones left out. */
export function rollupFilterParams(url: URL): RollupFilters {
  const domains = domainParam(url);
  const asns = asnParam(url);
  const ccs = ccParam(url);
  const categoryCodes = categoryParam(url);
  const sources = sourceParam(url);
  return {
    ...(domains === undefined ? {} : { domains }),
    ...(asns === undefined ? {} : { asns }),
    ...(ccs === undefined ? {} : { ccs }),
    ...(categoryCodes === undefined ? {} : { categoryCodes }),
    ...(sources === undefined ? {} : { sources }),
  };
}
