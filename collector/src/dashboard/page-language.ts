import type { IncomingHttpHeaders } from 'node:http';
import { isLanguage, type Language, negotiateLanguage } from '@steppe/shared';

/** The language of a dashboard or SVG request, and whether the URL named it. */
export interface RequestLanguage {
  readonly language: Language;
  /** True when `?lang=` chose (then links keep it); false when Accept-Language did. */
  readonly explicit: boolean;
}

/**
 * `?lang=en|ru|kk`, else the Accept-Language header, else English
 * (docs/dashboard.md). A `lang` Steppe has no catalog for is treated as
 * absent by the page (the SVG route refuses it: a chart in a report must not
 * silently change language).
 */
export function requestLanguage(url: URL, headers: IncomingHttpHeaders): RequestLanguage {
  const named = url.searchParams.get('lang');
  if (named !== null && isLanguage(named)) return { language: named, explicit: true };
  const accept = headers['accept-language'];
  return { language: negotiateLanguage(Array.isArray(accept) ? accept.join(',') : accept), explicit: false };
}
