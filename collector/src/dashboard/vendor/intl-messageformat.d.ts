// Types of FormatJS's intl-messageformat, which the page imports as
// ./vendor/intl-messageformat.js; the collector serves the package's
// single-file ES module build (intl-messageformat.iife.js) under that name
// (static-files.ts).
export * from 'intl-messageformat';
