// Formatting of times, numbers and labels for the page. Times are shown in
// UTC and in the chosen IANA zone, always with the zone named: an advocate
// quoting "10:02" must know which 10:02.

/** @type {Map<string, Intl.DateTimeFormat>} */
const formatters = new Map();

/**
 * @param {string} timeZone
 * @returns {Intl.DateTimeFormat}
 */
function formatter(timeZone) {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The parts of an instant in a zone.
 * @param {number} ms
 * @param {string} timeZone
 * @returns {{date: string, time: string, offset: string, day: string, month: string, year: string}}
 */
export function zoned(ms, timeZone) {
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const offset = (p['timeZoneName'] ?? 'GMT').replace('GMT', '');
  const year = p['year'] ?? '';
  const month = p['month'] ?? '';
  const day = p['day'] ?? '';
  return { date: `${year}-${month}-${day}`, time: `${p['hour'] ?? ''}:${p['minute'] ?? ''}`, offset: `UTC${offset === '' ? '+00:00' : offset}`, day, month, year };
}

/**
 * "2020-12-06 04:02 UTC".
 * @param {number} ms
 */
export function utcText(ms) {
  const z = zoned(ms, 'UTC');
  return `${z.date} ${z.time} UTC`;
}

/**
 * "2020-12-06 10:02 Asia/Almaty (UTC+06:00)".
 * @param {number} ms
 * @param {string} timeZone
 */
export function localText(ms, timeZone) {
  const z = zoned(ms, timeZone);
  return `${z.date} ${z.time} ${timeZone} (${z.offset})`;
}

/**
 * "6 December 2020" in a zone.
 * @param {number} ms
 * @param {string} timeZone
 */
export function longDate(ms, timeZone) {
  return new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(ms));
}

/** @param {number} n */
export function count(n) {
  return n.toLocaleString('en');
}

/**
 * A row label, as the server-side SVG writes it: "www.facebook.com · AS9198 JSC Kazakhtelecom".
 * @param {string | null} domain
 * @param {number | null} asn
 * @param {ReadonlyMap<number, string>} names
 */
export function rowLabel(domain, asn, names) {
  const name = asn === null ? undefined : names.get(asn);
  const network = asn === null ? 'all networks' : `AS${asn}${name === undefined || name === '' ? '' : ` ${name}`}`;
  return `${domain ?? 'all domains'} · ${network}`;
}

/**
 * "AS9198 JSC Kazakhtelecom".
 * @param {number} asn
 * @param {ReadonlyMap<number, string>} names
 */
export function networkText(asn, names) {
  const name = names.get(asn);
  return `AS${asn}${name === undefined || name === '' ? '' : ` ${name}`}`;
}

/**
 * True for a zone this browser knows.
 * @param {string} name
 */
export function isTimeZone(name) {
  if (name === '' || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
