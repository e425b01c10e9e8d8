// Types of /dashboard/i18n/translator.js, which the collector serves from
// shared/src/i18n/translator.js: the same module the probe and the collector run.
export * from '../../../../shared/src/i18n/translator.js';
