// Messages in ICU MessageFormat (plurals, selects) formatted with FormatJS's
// intl-messageformat. The formatter class is passed in rather than imported,
// so this one file serves Node (which imports the npm package) and the
// dashboard (which imports the copy the collector serves under
// /dashboard/vendor/): no bundler, no import map, no CDN.
import { FORMAT_LOCALES, LOCALES } from './languages.js';

/**
 * @typedef {Readonly<Record<string, string>>} Catalog a flat map: message key → ICU message
 * @typedef {Record<string, string | number | boolean | null | undefined>} MessageValues
 * @typedef {typeof import('intl-messageformat').IntlMessageFormat} MessageFormatClass
 */

/**
 * Formats the messages of one language.
 * @typedef {object} Translator
 * @property {import('./languages.js').Language} language
 * @property {string} locale the BCP 47 locale used with Intl
 * @property {(key: string, values?: MessageValues) => string} t the message `key` with `values`
 * @property {(key: string) => boolean} has
 * @property {(n: number) => string} number a number in the locale ("2,311", "2 311")
 */

/**
 * A translator over `messages`; a key missing there (or whose message fails
 * to format) comes from `fallback` (English), else the key itself is shown.
 * Never throws on a message: a bad translation must not stop a probe. The
 * catalog tests (docs/translations.md) keep every key present and every
 * placeholder the same, so the fallback is a safety net, not a feature.
 * @param {{language: import('./languages.js').Language, messages: Catalog, MessageFormat: MessageFormatClass, fallback?: Catalog}} options
 * @returns {Translator}
 */
export function createTranslator(options) {
  const { language, messages, MessageFormat, fallback } = options;
  const locale = LOCALES[language];
  const formatLocale = FORMAT_LOCALES[language];
  /** @type {Map<string, import('intl-messageformat').IntlMessageFormat | null>} */
  const compiled = new Map();
  const numbers = new Intl.NumberFormat(formatLocale);

  /**
   * @param {Catalog | undefined} catalog
   * @param {string} key
   * @param {string} cacheKey
   */
  const formatter = (catalog, key, cacheKey) => {
    if (compiled.has(cacheKey)) return compiled.get(cacheKey) ?? null;
    const source = catalog !== undefined && Object.hasOwn(catalog, key) ? catalog[key] : undefined;
    let f = null;
    if (source !== undefined) {
      try {
        // ignoreTag: "<" is plain text in our messages, not rich-text markup.
        f = new MessageFormat(source, formatLocale, undefined, { ignoreTag: true });
      } catch {
        f = null;
      }
    }
    compiled.set(cacheKey, f);
    return f;
  };

  /**
   * @param {Catalog | undefined} catalog
   * @param {string} key
   * @param {string} cacheKey
   * @param {MessageValues} values
   * @returns {string | undefined}
   */
  const attempt = (catalog, key, cacheKey, values) => {
    const f = formatter(catalog, key, cacheKey);
    if (f === null) return undefined;
    try {
      const out = f.format(/** @type {Record<string, string | number | boolean | null | undefined>} */ (values));
      return typeof out === 'string' ? out : String(out);
    } catch {
      return undefined;
    }
  };

  return {
    language,
    locale,
    t(key, values = {}) {
      return attempt(messages, key, key, values) ?? attempt(fallback, key, `\u0000${key}`, values) ?? key;
    },
    has(key) {
      return Object.hasOwn(messages, key);
    },
    number(n) {
      return numbers.format(n);
    },
  };
}

/**
 * The names of the arguments a message uses ("{count, plural, ...}" → count),
 * from the parsed message: what the catalog tests compare across languages.
 * @param {string} message
 * @param {MessageFormatClass} MessageFormat
 * @returns {string[]} sorted, unique
 */
export function messageArguments(message, MessageFormat) {
  /** @type {Set<string>} */
  const names = new Set();
  /** @param {ReturnType<InstanceType<MessageFormatClass>['getAst']>} elements */
  const walk = (elements) => {
    for (const el of elements) {
      // 0: literal text, 7: "#" in a plural; every other element with a string value names an argument.
      if (el.type !== 0 && el.type !== 7 && 'value' in el && typeof el.value === 'string') names.add(el.value);
      if ('options' in el) for (const option of Object.values(el.options)) walk(option.value);
      if ('children' in el) walk(el.children);
    }
  };
  walk(new MessageFormat(message, 'en', undefined, { ignoreTag: true }).getAst());
  return [...names].sort();
}
