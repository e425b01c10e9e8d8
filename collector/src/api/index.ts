/** The public HTTP API (docs/api/openapi.yaml). */
export { registerApiRoutes, type ApiDeps, type ApiRoute } from './routes.js';
export { collectorMetrics, apiRequests } from './metrics.js';
export { recordToJson, storedToJson } from './measurement-views.js';
export { measurementFilterFromQuery } from './measurement-routes.js';
export { episodeToJson } from './analysis-routes.js';
export { requireAdmin } from './auth.js';
export * as apiParams from './params.js';
