/**
 * The control vantage (test helper): `POST /api/v1/control` measures a URL
 * from the collector's uncensored side so a probe's observations can be
 * compared with it (docs/verdicts.md).
 */
export { ControlService, MAX_CONTROL_REQUEST_BYTES, controlCacheKey, registerControlRoutes } from './control-service.js';
export { type ControlOptions, type ResolvedControlOptions, type AsnInfo, CONTROL_CACHE_TTL_MS, resolveControlOptions } from './options.js';
export { MAX_PROBE_ADDRESSES, MAX_URL_LENGTH, parseControlRequest } from './request.js';
export { type ControlMeasurementProps, MAX_OWN_ADDRESSES, measureControl } from './measure.js';
export { ResultCache } from './result-cache.js';
export { ClientRateLimiter } from './client-rate-limiter.js';
