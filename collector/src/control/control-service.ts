import { CLIENT_ADDRESS_HEADER, CONTROL_CACHE_HEADER, CONTROL_PATH, type ControlRequest, controlMeasurementToJson } from '@steppe/shared';
import { clientAddress } from '../geo/client-address.js';
import { HttpError, type RequestContext, type Router, readJson, sendJson } from '../http/router.js';
import { ClientRateLimiter } from './client-rate-limiter.js';
import { type ControlMeasurementProps, measureControl } from './measure.js';
import { type ControlOptions, type ResolvedControlOptions, resolveControlOptions } from './options.js';
import { parseControlRequest } from './request.js';
import { ResultCache } from './result-cache.js';

/** Largest request body accepted (a URL and at most 16 addresses). */
export const MAX_CONTROL_REQUEST_BYTES = 16 * 1024;

/** Cache key: the URL and the probe's addresses, sorted (their order carries no meaning). */
export function controlCacheKey(request: ControlRequest): string {
  return `${request.url} ${[...request.addresses].sort().join(',')}`;
}

/**
 * The control vantage: validates requests, rate-limits callers per address,
 * reuses results briefly per URL + addresses, caps concurrent measurements,
 * and measures with the netx primitives.
 */
export class ControlService {
  readonly options: ResolvedControlOptions;
  readonly #cache: ResultCache<ControlMeasurementProps>;
  readonly #limiter: ClientRateLimiter;
  #running = 0;

  constructor(options: ControlOptions = {}) {
    this.options = resolveControlOptions(options);
    this.#cache = new ResultCache({ ttlMs: this.options.cacheTtlMs, maxEntries: this.options.cacheMaxEntries, clock: this.options.clock });
    this.#limiter = new ClientRateLimiter({ ...this.options.rateLimit, clock: this.options.clock });
  }

  /** Measurements running now. */
  get running(): number {
    return this.#running;
  }

  /** The control measurement for a validated request, from the cache when fresh. */
  async measure(request: ControlRequest): Promise<{ readonly measurement: ControlMeasurementProps; readonly cached: boolean }> {
    const { value, hit } = await this.#cache.getOrCreate(controlCacheKey(request), () => this.#run(request));
    return { measurement: value, cached: hit };
  }

  async #run(request: ControlRequest): Promise<ControlMeasurementProps> {
    if (this.#running >= this.options.maxConcurrent) {
      throw new HttpError(503, 'STEPPE_ERR_RATE_LIMITED', `the control is busy (${this.options.maxConcurrent} measurements running); retry shortly`);
    }
    this.#running += 1;
    try {
      return await measureControl(request, this.options);
    } finally {
      this.#running -= 1;
    }
  }

  /** Handle `POST /api/v1/control`. */
  async handle(ctx: RequestContext): Promise<void> {
    // The client's address is a rate-limiter key and is echoed back to the
    // client itself (so a probe can scrub its own public address from what
    // it writes); it is never stored, logged or cached.
    const client = clientAddress(ctx.req, this.options.trustedProxies);
    const wait = this.#limiter.take(client ?? 'unknown');
    if (wait > 0) {
      sendJson(ctx.res, 429, { error: { code: 'STEPPE_ERR_RATE_LIMITED', message: `too many control requests from this address; retry in ${Math.ceil(wait / 1000)} s` } }, {
        'retry-after': String(Math.ceil(wait / 1000)),
      });
      return;
    }
    const request = parseControlRequest(await readJson(ctx.req, MAX_CONTROL_REQUEST_BYTES));
    const { measurement, cached } = await this.measure(request);
    sendJson(ctx.res, 200, controlMeasurementToJson(measurement), {
      'cache-control': 'no-store',
      [CONTROL_CACHE_HEADER]: cached ? 'hit' : 'miss',
      ...(client !== undefined ? { [CLIENT_ADDRESS_HEADER]: client } : {}),
    });
  }
}

/**
 * Register `POST /api/v1/control` on `router` (the `serve` command composes
 * it with ingest and the API; `control` serves it alone). Returns the service.
 */
export function registerControlRoutes(router: Router, options: ControlOptions = {}): ControlService {
  const service = new ControlService(options);
  router.add('POST', CONTROL_PATH, (ctx) => service.handle(ctx));
  return service;
}
