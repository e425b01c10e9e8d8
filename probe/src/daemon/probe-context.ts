import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP, type LookupFunction } from 'node:net';
import { type Clock, ConfigError, EgressGuard, systemClock } from '@steppe/shared';
import { BandwidthBudget } from '../budget/bandwidth-budget.js';
import { controlUrlOf, loadProbeConfig, resolverOf } from '../config/file.js';
import type { ProbeConfig } from '../config/schema.js';
import type { ConnectivityResult } from '../connectivity/connectivity-test.js';
import { guardedLookup } from '../connectivity/guarded-lookup.js';
import { createGuardedHttpGet, type HttpGet } from '../connectivity/http-get.js';
import { requireConsent } from '../consent/consent-record.js';
import { secureDataDir } from '../data-dir/file-modes.js';
import type { EngineOptions } from '../experiments/engine-options.js';
import { loadOrCreateIdentity, type ProbeIdentity } from '../identity/identity.js';
import { Outbox } from '../outbox/outbox.js';
import { PublicAddressSet } from '../privacy/public-address.js';
import { loadCategoryLegend } from '../testlists/shipped.js';
import { TestListStore } from '../testlists/store.js';
import { Uplink } from '../uplink/uplink.js';
import { OUTBOX_FILE_NAME } from '../cli/upload-results.js';
import type { MeasureTargets, ProbeRunDeps } from './probe-run.js';
import { RunHistory } from './run-history.js';

// The measurement engine (experiments, connectivity checks, and through them
// netx's HTTP client and the verdict reference) is loaded by the first run,
// not at start: a daemon spends most of its life waiting for the next one
// (bench/probe-footprint/RESULTS.md).
const measureTargets: MeasureTargets = async (targets, options, hooks) => (await import('../experiments/measure-targets.js')).measureTargets(targets, options, hooks);

/** Everything a running probe holds open; built once by `start` and `run`. */
export interface ProbeContext {
  readonly dataDir: string;
  /** Paths in the data directory whose modes were tightened on open (relative; usually none). */
  readonly repairedModes: readonly string[];
  readonly config: ProbeConfig;
  readonly identity: ProbeIdentity;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly budget: BandwidthBudget;
  readonly lists: TestListStore;
  readonly history: RunHistory;
  readonly addresses: PublicAddressSet;
  readonly guard: EgressGuard;
  readonly resolver: { readonly host: string; readonly port: number };
  readonly lookup: LookupFunction;
  readonly http: HttpGet;
  readonly engineOptions: EngineOptions;
  /** The run's dependencies, the engine included. */
  runDeps(extra?: Pick<ProbeRunDeps, 'onProgress'>): ProbeRunDeps;
  /** Close the uplink, then the outbox. */
  close(): Promise<void>;
}

/** Read the PEM file a config field names (ConfigError naming the field otherwise). */
export function readPemSetting(field: string, path: string | null): string[] | undefined {
  if (path === null) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(field, `field "${field}": cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(field, `field "${field}": ${path} holds no PEM certificate`);
  return blocks.map((b) => `${b}\n`);
}

/** The distinct base URLs whose reachability each run records: the control, then the collectors. */
export function connectivityTargets(config: ProbeConfig): { url: string; role: 'control' | 'collector' }[] {
  const seen = new Set<string>();
  const out: { url: string; role: 'control' | 'collector' }[] = [];
  const add = (url: string, role: 'control' | 'collector'): void => {
    const origin = new URL(url).origin;
    if (seen.has(origin)) return;
    seen.add(origin);
    out.push({ url, role });
  };
  add(controlUrlOf(config), 'control');
  for (const c of config.collectors) add(c, 'collector');
  return out;
}

/**
 * A collector or control given by IP address must be inside the allow-list
 * (a name is checked when resolved). Refused up front, naming the field,
 * rather than failing every upload later.
 */
export function checkCollectorsAllowed(config: ProbeConfig, guard: EgressGuard): void {
  const fields: [string, string][] = config.collectors.map((url, i) => [`collectors[${i}]`, url]);
  if (config.controlUrl !== null) fields.push(['controlUrl', config.controlUrl]);
  for (const [field, url] of fields) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !guard.allows(host)) {
      throw new ConfigError(field, `field "${field}": ${url} is outside network.allowNet; add its network (e.g. "${host}/${isIP(host) === 4 ? 32 : 128}") to network.allowNet`);
    }
  }
}

/**
 * Open the probe in `dataDir` for measuring: config (validated), informed
 * consent (required: STEPPE_ERR_CONSENT_REQUIRED otherwise), identity,
 * outbox, uplink (through the egress rules), budget, lists, history.
 */
export function openProbeContext(dataDir: string, options: { readonly env: NodeJS.ProcessEnv; readonly clock?: Clock }): ProbeContext {
  const config = loadProbeConfig(dataDir);
  const repairedModes = secureDataDir(config.dataDir);
  requireConsent(config.dataDir);
  const clock = options.clock ?? systemClock;
  const identity = loadOrCreateIdentity(config.dataDir);
  const guard = new EgressGuard(config.network.allowNet);
  checkCollectorsAllowed(config, guard);
  const resolver = resolverOf(config);
  const localAddress = config.network.localAddress ?? undefined;
  const extraCaPem = readPemSetting('network.caFile', config.network.caFile);
  const interceptionRootsPem = readPemSetting('network.interceptionRootsFile', config.network.interceptionRootsFile);
  const budget = BandwidthBudget.open(config.dataDir, { limitBytes: config.limits.monthlyBudgetBytes, clock });
  const charge = (bytes: number): void => budget.add(bytes);
  const lookup = guardedLookup({ resolver, guard, localAddress, timeoutMs: 5_000, onTraffic: charge });
  const http = createGuardedHttpGet({
    guard,
    lookup,
    localAddress: localAddress ?? null,
    proxy: config.network.proxy,
    env: options.env,
    extraCaPem: extraCaPem?.join('') ?? null,
  });
  const lists = new TestListStore(config.dataDir);
  const history = new RunHistory(config.dataDir);
  const addresses = new PublicAddressSet();
  addresses.learnFromInterfaces();
  const outbox = Outbox.open(join(config.dataDir, OUTBOX_FILE_NAME), {
    maxBytes: config.limits.outboxMaxBytes,
    maxAgeMs: config.limits.outboxMaxAgeDays * 86_400_000,
    clock,
  });
  let uplink: Uplink;
  try {
    uplink = new Uplink({
      collectors: config.collectors,
      identity,
      outbox,
      clock,
      env: options.env,
      lookup,
      testListVersion: lists.currentVersion(),
      ...(config.enrollmentToken !== null ? { enrollmentToken: config.enrollmentToken } : {}),
      ...(config.network.proxy !== null ? { proxy: config.network.proxy } : {}),
      ...(localAddress !== undefined ? { localAddress } : {}),
      ...(extraCaPem !== undefined ? { ca: extraCaPem } : {}),
    });
  } catch (err) {
    outbox.close();
    throw err;
  }
  const engineOptions: EngineOptions = {
    probeId: identity.probeId,
    resolver,
    controlUrl: controlUrlOf(config),
    allowNet: config.network.allowNet,
    controlSni: config.network.controlSni,
    perTargetTimeoutMs: config.limits.perTargetTimeoutMs,
    maxBodyBytes: config.limits.maxBodyBytes,
    concurrency: config.limits.concurrency,
    labAddresses: config.network.labAddresses,
    clock,
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(extraCaPem !== undefined ? { extraCaPem } : {}),
    ...(interceptionRootsPem !== undefined ? { interceptionRootsPem } : {}),
  };
  const targets = connectivityTargets(config);
  const legend = loadCategoryLegend();
  const checkConnectivity = async (signal: AbortSignal): Promise<ConnectivityResult[]> => {
    const results: ConnectivityResult[] = [];
    for (const t of targets) {
      const { measureConnectivity } = await import('../connectivity/connectivity-test.js');
      results.push(
        await measureConnectivity({
          baseUrl: t.url,
          role: t.role,
          probeId: identity.probeId,
          resolver,
          guard,
          localAddress,
          extraCaPem,
          timeoutMs: Math.min(10_000, config.limits.perTargetTimeoutMs),
          signal,
          clock,
        }),
      );
    }
    return results;
  };
  return {
    dataDir: config.dataDir,
    repairedModes,
    config,
    identity,
    outbox,
    uplink,
    budget,
    lists,
    history,
    addresses,
    guard,
    resolver,
    lookup,
    http,
    engineOptions,
    runDeps: (extra) => ({
      measureTargets,
      engineOptions,
      sink: outbox,
      budget,
      addresses,
      catalog: () => lists.load(),
      fullLists: config.testLists.lists,
      filter: { categories: config.testLists.categories, excludeCategories: config.testLists.excludeCategories },
      legend,
      checkConnectivity,
      clock,
      onStored: () => uplink.notify(),
      ...(extra?.onProgress !== undefined ? { onProgress: extra.onProgress } : {}),
    }),
    close: async () => {
      try {
        await uplink.close();
      } finally {
        budget.flush();
        outbox.close();
      }
    },
  };
}
