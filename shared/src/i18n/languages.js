// The languages Steppe speaks and how one is chosen. Plain JavaScript with
// JSDoc types: the same file runs in Node (probe, collector) and, served by
// the collector, in the dashboard (docs/translations.md).

/** @typedef {'en' | 'ru' | 'kk'} Language */

/** Every language with a full catalog, English first (the fallback). */
export const LANGUAGES = /** @type {const} */ (['en', 'ru', 'kk']);

/** @type {Language} */
export const DEFAULT_LANGUAGE = 'en';

/**
 * BCP 47 locale used with Intl for dates, numbers and plural rules. English
 * is en-GB: day before month ("6 December 2020"), as reports in the region
 * write it.
 * @type {Readonly<Record<Language, string>>}
 */
export const LOCALES = { en: 'en-GB', ru: 'ru-RU', kk: 'kk-KZ' };

/**
 * The locale handed to Intl for numbers and plural rules. Kazakh numbers
 * are written as Russian ones are (a space between thousands, a decimal
 * comma), and Kazakh messages need no plural category but "other"; Russian
 * data is in every runtime, while some browsers ship trimmed ICU data
 * without Kazakh (Debian's Chromium writes 1,026 for kk-KZ). So a number
 * reads the same whether Node or the browser wrote it.
 * @type {Readonly<Record<Language, string>>}
 */
export const FORMAT_LOCALES = { en: 'en-GB', ru: 'ru-RU', kk: 'ru-RU' };

/**
 * Each language's name in itself, for a language switcher.
 * @type {Readonly<Record<Language, string>>}
 */
export const LANGUAGE_NAMES = { en: 'English', ru: 'Русский', kk: 'Қазақша' };

/**
 * @param {unknown} value
 * @returns {value is Language}
 */
export function isLanguage(value) {
  return typeof value === 'string' && /** @type {readonly string[]} */ (LANGUAGES).includes(value);
}

/**
 * The language of a locale name or language tag: "ru_RU.UTF-8", "kk-KZ",
 * "en", "RU" → ru, kk, en, ru; undefined for one Steppe has no catalog for
 * (and for "C" and "POSIX").
 * @param {string | undefined} tag
 * @returns {Language | undefined}
 */
export function languageOfTag(tag) {
  if (tag === undefined) return undefined;
  const primary = tag.trim().split(/[-_.@]/)[0]?.toLowerCase();
  return isLanguage(primary) ? primary : undefined;
}

/**
 * The language a POSIX environment asks for: the first of LC_ALL,
 * LC_MESSAGES and LANG that is set decides (that is their precedence), and
 * a locale with no Steppe catalog means English.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {Language}
 */
export function languageOfLocaleEnvironment(env) {
  for (const name of ['LC_ALL', 'LC_MESSAGES', 'LANG']) {
    const value = env[name];
    if (value !== undefined && value !== '') return languageOfTag(value) ?? DEFAULT_LANGUAGE;
  }
  return DEFAULT_LANGUAGE;
}

/**
 * The best language for an Accept-Language header (RFC 9110 §12.5.4): the
 * supported language with the highest weight; on equal weights the one
 * listed first; q=0 never; "*" or nothing usable: English.
 * @param {string | undefined} header
 * @returns {Language}
 */
export function negotiateLanguage(header) {
  if (header === undefined || header === '') return DEFAULT_LANGUAGE;
  /** @type {Language | undefined} */
  let best;
  let bestQ = 0;
  for (const item of header.slice(0, 1000).split(',')) {
    const [range = '', ...params] = item.split(';').map((s) => s.trim());
    let q = 1;
    for (const p of params) {
      const m = /^q=([01](?:\.\d{0,3})?)$/i.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    const language = range === '*' ? DEFAULT_LANGUAGE : languageOfTag(range);
    if (language !== undefined && q > bestQ) {
      best = language;
      bestQ = q;
    }
  }
  return best ?? DEFAULT_LANGUAGE;
}
