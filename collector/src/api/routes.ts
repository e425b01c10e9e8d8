import { type Clock, check } from '@steppe/shared';
import { type Handler, type RequestContext, type Router, sendJson } from '../http/router.js';
import type { Store } from '../store/store.js';
import { aggregation } from './aggregation.js';
import {
  createEventRoute,
  deleteEventRoute,
  episodesRoute,
  getEventRoute,
  listEventsRoute,
  timelineRoute,
  updateEventRoute,
} from './analysis-routes.js';
import { apiRequests, collectorMetrics } from './metrics.js';
import { getMeasurement, listMeasurements } from './measurement-routes.js';

/** What the public API needs. */
export interface ApiDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Token for admin routes (POST/PUT/DELETE /api/v1/events); admin routes are off without one. */
  readonly adminToken?: string;
  /** A probe counts as active when seen within this window (default 24 h). */
  readonly probeActiveWindowMs?: number;
}

/** A registered route, as listed in docs/api/openapi.yaml. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly pattern: string;
}

type Method = ApiRoute['method'];

/**
 * Register the public API on a router and return the routes registered
 * (a test checks each appears in docs/api/openapi.yaml). Read-only routes
 * need no token; routes that change events need the admin token.
 */
export function registerApiRoutes(router: Router, deps: ApiDeps): readonly ApiRoute[] {
  if (deps.adminToken !== undefined) check.string({ min: 16, max: 512, describe: 'a token of 16 to 512 characters' })(deps.adminToken, 'adminToken');
  const { store, clock } = deps;
  const activeWindow = deps.probeActiveWindowMs ?? 86_400_000;
  const routes: ApiRoute[] = [];
  const add = (method: Method, pattern: string, handler: Handler): void => {
    routes.push({ method, pattern });
    router.add(method, pattern, async (ctx: RequestContext) => {
      try {
        await handler(ctx);
      } finally {
        apiRequests.inc({ route: `${method} ${pattern}`, status: String(ctx.res.statusCode) });
      }
    });
  };

  add('GET', '/api/v1/measurements', (ctx) => listMeasurements(store, ctx));
  add('GET', '/api/v1/measurements/:id', (ctx) => getMeasurement(store, ctx));
  add('GET', '/api/v1/timeline', (ctx) => timelineRoute(store, clock, ctx));
  add('GET', '/api/v1/episodes', (ctx) => episodesRoute(store, clock, ctx));
  add('GET', '/api/v1/aggregation', (ctx) => aggregation(store, ctx, clock.now()));
  add('GET', '/api/v1/events', (ctx) => listEventsRoute(store, ctx));
  add('POST', '/api/v1/events', (ctx) => createEventRoute(store, clock, deps.adminToken, ctx));
  add('GET', '/api/v1/events/:id', (ctx) => getEventRoute(store, clock, ctx));
  add('PUT', '/api/v1/events/:id', (ctx) => updateEventRoute(store, deps.adminToken, ctx));
  add('DELETE', '/api/v1/events/:id', (ctx) => deleteEventRoute(store, deps.adminToken, ctx));
  add('GET', '/api/v1/probes', async (ctx) => {
    const since = clock.now() - activeWindow;
    // Counts per network only: never a probe id, key or address next to a place.
    sendJson(ctx.res, 200, {
      active_window_hours: activeWindow / 3_600_000,
      results: (await store.probeCounts(since)).map((c) => ({ probe_asn: c.asn, probe_cc: c.cc, probe_network_name: c.networkName, probes: c.probes, active_probes: c.activeProbes })),
    }, { 'access-control-allow-origin': '*' });
  });
  add('GET', '/healthz', async (ctx) => {
    const ok = await store.healthy().catch(() => false);
    const version = ok ? await store.schemaVersion().catch(() => null) : null;
    sendJson(ctx.res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', schema_version: version, time: new Date(clock.now()).toISOString() }, { 'cache-control': 'no-store' });
  });
  add('GET', '/metrics', async (ctx) => {
    const text = await collectorMetrics.metrics();
    ctx.res.writeHead(200, { 'content-type': collectorMetrics.contentType, 'content-length': Buffer.byteLength(text) });
    ctx.res.end(text);
  });
  return routes;
}
