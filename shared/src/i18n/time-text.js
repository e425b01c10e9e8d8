// Times as Steppe shows them, in every language: always with the zone named
// (an advocate quoting "10:02" must know which 10:02). Clock times and
// numeric dates are ISO-like ("2020-12-06 04:02 UTC") in every language:
// unambiguous, sortable and the same in a citation whatever the reader's
// language; long dates ("6 December 2020", "6 декабря 2020 г.",
// "2020 ж. 6 желтоқсан") are the catalog's words around those numbers.

/** @type {Map<string, Intl.DateTimeFormat>} */
const numericFormats = new Map();

/**
 * @param {string} timeZone
 * @returns {Intl.DateTimeFormat}
 */
function numericFormat(timeZone) {
  let f = numericFormats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    numericFormats.set(timeZone, f);
  }
  return f;
}

/**
 * The parts of an instant in a zone: date "2020-12-06", time "10:02", offset "UTC+06:00".
 * @param {number} ms
 * @param {string} timeZone
 * @returns {{date: string, time: string, offset: string}}
 */
export function zoned(ms, timeZone) {
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of numericFormat(timeZone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const offset = (p['timeZoneName'] ?? 'GMT').replace('GMT', '');
  return {
    date: `${p['year'] ?? ''}-${p['month'] ?? ''}-${p['day'] ?? ''}`,
    time: `${p['hour'] ?? ''}:${p['minute'] ?? ''}`,
    offset: `UTC${offset === '' ? '+00:00' : offset}`,
  };
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
 * The calendar date of an instant in a zone, written out in the
 * translator's language: "6 December 2020", "6 декабря 2020 г.",
 * "2020 ж. 6 желтоқсан". The words come from the catalog's `date.long`
 * (a select over the month), not from Intl: browsers ship trimmed locale
 * data (Debian's Chromium writes "2020 M12 6" for Kazakh), and a sentence
 * must read the same whether the dashboard or the collector wrote it.
 * @param {import('./translator.js').Translator} tr
 * @param {number} ms
 * @param {string} timeZone
 */
export function longDate(tr, ms, timeZone) {
  const [year = '', month = '', day = ''] = zoned(ms, timeZone).date.split('-');
  return tr.t('date.long', { year, month: String(Number(month)), day: String(Number(day)) });
}

/**
 * True for an IANA zone this runtime knows.
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
