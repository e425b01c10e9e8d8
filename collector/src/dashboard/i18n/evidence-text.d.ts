// Types of /dashboard/i18n/evidence-text.js, which the collector serves from
// shared/src/i18n/evidence-text.js: the same module the probe and the collector run.
export * from '../../../../shared/src/i18n/evidence-text.js';
