// The page's language: the collector renders the page in it (?lang=, else
// Accept-Language, else English) and hands the catalog over in the page's
// JSON data block (a data block is not a script: the CSP stays
// "script-src 'self'"). The formatter is the one Node uses
// (shared/src/i18n, served under /dashboard/i18n/) over FormatJS's
// intl-messageformat (served under /dashboard/vendor/).
import { IntlMessageFormat } from '../vendor/intl-messageformat.js';
import { createTranslator } from '../i18n/translator.js';
import { isLanguage } from '../i18n/languages.js';

/**
 * @typedef {{name: string, description: string}} EventText
 * @typedef {{language: string, explicit: boolean, messages: Record<string, string>, events: Record<string, EventText>}} PageI18n
 */

/** @returns {PageI18n} */
function read() {
  const text = document.getElementById('steppe-i18n')?.textContent ?? '';
  try {
    const data = /** @type {Partial<PageI18n>} */ (JSON.parse(text));
    return { language: data.language ?? 'en', explicit: data.explicit ?? false, messages: data.messages ?? {}, events: data.events ?? {} };
  } catch {
    return { language: 'en', explicit: false, messages: {}, events: {} };
  }
}

const data = read();

/** The page's translator. */
export const tr = createTranslator({ language: isLanguage(data.language) ? data.language : 'en', messages: data.messages, MessageFormat: IntlMessageFormat });

/** The language named in the URL (?lang=), kept in every link; '' when the browser's language chose. */
export const urlLanguage = data.explicit ? tr.language : '';

/**
 * An event's name and description in the page's language, where the events
 * file gives them (keyed by name and start, as the API lists the event).
 * @param {{name: string, start: string, description: string}} e
 * @returns {EventText}
 */
export function eventText(e) {
  return data.events[`${e.name}\u0000${new Date(Date.parse(e.start)).toISOString()}`] ?? { name: e.name, description: e.description };
}
