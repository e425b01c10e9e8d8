import { LANGUAGE_NAMES, LANGUAGES, type Language, loadCatalog, SteppeError, translatorFor } from '@steppe/shared';
import type { EventTexts } from './event-texts.js';
import { xmlEscape } from './xml-text.js';

/** What varies between renderings of the page. */
export interface DashboardPageOptions {
  readonly language: Language;
  /** The URL named the language (?lang=): links and the form keep it. */
  readonly explicit: boolean;
  readonly defaultTimeZone: string;
  readonly eventTexts: EventTexts;
}

/** JSON safe inside a <script type="application/json"> element: no "<" at all, so no "</script" or "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The dashboard page in a language, from assets/index.html: `{{message.key}}`
 * markers become the catalog's text (escaped), `<html lang>` is set, the
 * language switcher is drawn, and the page's catalog (with English behind
 * it) and event translations go into its JSON data block for the scripts.
 * A marker with no message is STEPPE_ERR_INTERNAL: found at start-up, not by
 * a reader.
 */
export function renderDashboardPage(template: string, options: DashboardPageOptions): string {
  const { language, explicit } = options;
  const tr = translatorFor(language, 'collector');
  const links = LANGUAGES.map((l) => {
    const current = l === language ? ' aria-current="true"' : '';
    return `<a href="/dashboard?lang=${l}" hreflang="${l}" lang="${l}"${current}>${xmlEscape(LANGUAGE_NAMES[l])}</a>`;
  }).join(' ');
  const data = {
    language,
    explicit,
    messages: { ...loadCatalog('en', 'collector'), ...loadCatalog(language, 'collector') },
    events: Object.fromEntries(options.eventTexts.get(language) ?? []),
  };
  const fixed: Readonly<Record<string, string>> = {
    LANG: language,
    LANG_PARAM: explicit ? language : '',
    LANG_QUERY: explicit ? `?lang=${language}` : '',
    DEFAULT_TIME_ZONE: xmlEscape(options.defaultTimeZone),
    LANGUAGE_LINKS: links,
    I18N_DATA: scriptJson(data),
  };
  return template.replace(/\{\{([A-Za-z0-9_.]+)\}\}/g, (_, key: string) => {
    const value = fixed[key];
    if (value !== undefined) return value;
    if (!tr.has(key)) throw new SteppeError('STEPPE_ERR_INTERNAL', `dashboard: index.html uses the message ${JSON.stringify(key)}, which the ${language} catalog lacks`);
    return xmlEscape(tr.t(key));
  });
}
