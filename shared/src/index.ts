/**
 * @steppe/shared: what the probe and the collector both use. The probe and the
 * collector never import each other; anything both need lives here or in
 * @steppe/proto.
 */
export * from './failures.js';
export * from './classify-error.js';
export * from './errors.js';
export * from './scrub.js';
export * from './ids.js';
export * from './signing.js';
export * from './codec.js';
export * from './verdicts.js';
export * from './measurement-json.js';
export * from './config.js';
export * from './clock.js';
export * from './net/cidr.js';
export * from './net/bogons.js';
export * from './cli.js';
export * from './netx/index.js';
export * from './verdict/index.js';
export * from './testlists/index.js';
export * from './json-log.js';
export * from './i18n/index.js';
export * from './schema-migrations.js';
export * from './protocol/index.js';
