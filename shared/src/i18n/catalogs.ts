import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IntlMessageFormat } from 'intl-messageformat';
import { SteppeError } from '../errors.js';
import { DEFAULT_LANGUAGE, type Language } from './languages.js';
import { type Catalog, createTranslator, type Translator } from './translator.js';

/**
 * The message catalogs in Node: plain JSON files, one per language and
 * part, in shared/locales/<language>/ (docs/translations.md). The probe
 * reads probe.json, the collector collector.json (which it also hands to
 * the dashboard); both ship with @steppe/shared.
 */

/** The folder of the catalogs, from src/i18n or dist/i18n alike. */
export const LOCALES_DIR: string = fileURLToPath(new URL('../../locales/', import.meta.url));

/** The parts of the catalog: what the probe says, and what the collector and its dashboard say. */
export const CATALOG_DOMAINS = ['probe', 'collector'] as const;
export type CatalogDomain = (typeof CATALOG_DOMAINS)[number];

/** Path of one catalog file. */
export function catalogPath(language: Language, domain: CatalogDomain): string {
  return `${LOCALES_DIR}${language}/${domain}.json`;
}

/** Parse a catalog file's text: a JSON object whose values are all strings. */
export function parseCatalog(text: string, path: string): Catalog {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_INTERNAL', `${path}: not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SteppeError('STEPPE_ERR_INTERNAL', `${path}: expected a JSON object of messages`);
  for (const [key, message] of Object.entries(value)) {
    if (typeof message !== 'string') throw new SteppeError('STEPPE_ERR_INTERNAL', `${path}: message ${JSON.stringify(key)} is not a string`);
  }
  return value as Catalog;
}

const catalogs = new Map<string, Catalog>();

/** A catalog, read once. A missing or broken file is STEPPE_ERR_INTERNAL naming it (a packaging bug). */
export function loadCatalog(language: Language, domain: CatalogDomain): Catalog {
  const path = catalogPath(language, domain);
  let catalog = catalogs.get(path);
  if (catalog === undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new SteppeError('STEPPE_ERR_INTERNAL', `cannot read the message catalog ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    }
    catalog = parseCatalog(text, path);
    catalogs.set(path, catalog);
  }
  return catalog;
}

const translators = new Map<string, Translator>();

/** The translator of a language for a part of Steppe, English behind it. */
export function translatorFor(language: Language, domain: CatalogDomain): Translator {
  const key = `${language}/${domain}`;
  let tr = translators.get(key);
  if (tr === undefined) {
    tr = createTranslator({
      language,
      messages: loadCatalog(language, domain),
      MessageFormat: IntlMessageFormat,
      ...(language === DEFAULT_LANGUAGE ? {} : { fallback: loadCatalog(DEFAULT_LANGUAGE, domain) }),
    });
    translators.set(key, tr);
  }
  return tr;
}
