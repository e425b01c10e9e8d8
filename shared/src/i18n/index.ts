/** Languages, message catalogs and the words about evidence (docs/translations.md). */
export * from './languages.js';
export * from './translator.js';
export * from './time-text.js';
export * from './evidence-text.js';
export * from './catalogs.js';
export * from './consent-notice.js';
