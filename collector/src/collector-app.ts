import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Cidr, type Clock, systemClock } from '@steppe/shared';
import { registerApiRoutes } from './api/index.js';
import { collectorMetrics } from './api/metrics.js';
import { registerControlRoutes } from './control/index.js';
import { registerDashboardRoutes } from './dashboard/index.js';
import { COLLECTOR_KEY_FILE, loadOrCreateCollectorKey, registerExportRoutes } from './export/index.js';
import { NetworkLookup } from './geo/index.js';
import { listenRouter } from './http/listen.js';
import { Router } from './http/router.js';
import { type Enrollment, type IngestEvent, attachIngest } from './ingest/index.js';
import { type Store, openStore } from './store/index.js';
import { loadEventsFile } from './timeline/events.js';
import { TestListCatalog } from './testlists/catalog.js';
import { registerTestListRoutes } from './testlists/routes.js';
import { SOFTWARE_VERSION } from './version.js';

/** Everything `serve` (and `up`) configure. */
export interface CollectorOptions {
  /** SQLite database file (created if missing) or PostgreSQL URL (store/open-store.ts). */
  readonly db: string;
  /** Keys, the ASN index cache and snapshots live here. */
  readonly dataDir: string;
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** Public base URL, cited in charts and exports (default: the listen URL). */
  readonly publicUrl?: string;
  readonly control: {
    readonly resolver: { host: string; port: number };
    readonly localAddress?: string;
    readonly allowNet: readonly Cidr[];
    readonly extraCa?: readonly string[];
  };
  /** `--networks` file: CIDR → ASN, country, name, consulted first. */
  readonly networksFile?: string;
  /** Use the bundled IP→ASN/country databases (default true). */
  readonly geoDatabases?: boolean;
  readonly trustedProxies?: readonly Cidr[];
  readonly enrollment?: Enrollment;
  readonly adminToken?: string;
  /** Events to seed (idempotent: an event with the same name and start is kept once). */
  readonly eventsFile?: string;
  /** A test-list bundle (docs/cli.md) to offer probes. */
  readonly testListBundle?: string;
  /** Worker threads writing JSON Lines exports (default 0: the main thread). */
  readonly exportWorkers?: number;
  readonly clock?: Clock;
  /** Structured events (ingest sessions, warnings); never carries an address. */
  readonly onLog?: (event: CollectorLogEvent) => void;
}

/** A log line from the running collector. */
export type CollectorLogEvent =
  | { readonly event: 'ingest'; readonly detail: IngestEvent }
  | { readonly event: 'geo_ready'; readonly ms: number }
  | { readonly event: 'geo_failed'; readonly message: string }
  | { readonly event: 'events_seeded'; readonly added: number };

/** A running collector. */
export interface RunningCollector {
  readonly url: string;
  readonly store: Store;
  /** Every HTTP route served (method and pattern); the WebSocket ingest path is INGEST_PATH. */
  readonly routes: readonly { method: string; pattern: string }[];
  /** Stop accepting, let ingest commit and ack what is in flight, close the database. */
  close(): Promise<void>;
}

/**
 * Compose the collector on ONE port: the probes' WebSocket ingest
 * (/api/v1/ingest), the control vantage (POST /api/v1/control), the public
 * API, exports and snapshots, test lists, the dashboard and /metrics.
 */
export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const clock = options.clock ?? systemClock;
  const log = options.onLog ?? (() => undefined);
  mkdirSync(options.dataDir, { recursive: true });
  const store = await openStore(options.db, { clock });
  const stopControl = new AbortController();
  try {
    if (options.eventsFile !== undefined) {
      const added = await store.seedEvents(loadEventsFile(options.eventsFile), clock.now());
      log({ event: 'events_seeded', added });
    }
    const networks = new NetworkLookup({
      ...(options.networksFile !== undefined ? { networksFile: options.networksFile } : {}),
      useDatabases: options.geoDatabases ?? true,
      cacheDir: join(options.dataDir, 'geo'),
    });
    const testLists = options.testListBundle !== undefined ? TestListCatalog.load(options.testListBundle) : TestListCatalog.empty();
    const collectorKey = loadOrCreateCollectorKey(join(options.dataDir, COLLECTOR_KEY_FILE)).keys;

    const router = new Router();
    registerControlRoutes(router, {
      resolver: options.control.resolver,
      allowNet: options.control.allowNet,
      localAddress: options.control.localAddress,
      ...(options.control.extraCa !== undefined ? { extraCa: [...options.control.extraCa] } : {}),
      asnLookup: (ip) => {
        const n = networks.lookup(ip);
        return { asn: n.asn, asOrg: n.networkName };
      },
      ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
      clock,
      signal: stopControl.signal,
    });
    registerApiRoutes(router, { store, clock, ...(options.adminToken !== undefined ? { adminToken: options.adminToken } : {}) });
    registerExportRoutes(router, { store, clock, collectorKey, snapshotDir: join(options.dataDir, 'snapshots'), ...(options.exportWorkers !== undefined ? { exportWorkers: options.exportWorkers } : {}) });
    registerTestListRoutes(router, testLists);
    registerDashboardRoutes(router, { store, clock, ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}), ...(options.eventsFile !== undefined ? { eventsFile: options.eventsFile } : {}) });
    router.add('GET', '/', ({ res }) => {
      res.writeHead(302, { location: '/dashboard' });
      res.end();
    });

    const listening = await listenRouter(router, options.host, options.port);
    const ingest = attachIngest(listening.server, {
      store,
      networks,
      ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
      ...(options.enrollment !== undefined ? { enrollment: options.enrollment } : {}),
      clock,
      collectorId: `steppe-collector/${SOFTWARE_VERSION}`,
      testListVersion: () => testLists.version(),
      registry: collectorMetrics,
      onEvent: (detail) => log({ event: 'ingest', detail }),
    });

    // The ASN index takes a couple of seconds to build the first time; do it
    // after listening so the dashboard and loopback probes are not held up.
    if (options.geoDatabases ?? true) {
      setImmediate(() => {
        const started = Date.now();
        try {
          networks.warm();
          log({ event: 'geo_ready', ms: Date.now() - started });
        } catch (err) {
          log({ event: 'geo_failed', message: err instanceof Error ? err.message : String(err) });
        }
      });
    }

    let closed = false;
    return {
      url: listening.url,
      store,
      routes: router.routes(),
      close: async () => {
        if (closed) return;
        closed = true;
        stopControl.abort(new Error('collector shutting down'));
        await ingest.close();
        await listening.close();
        await store.close();
      },
    };
  } catch (err) {
    stopControl.abort();
    await store.close();
    throw err;
  }
}
