import { setMaxListeners } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Cidr, InvalidArgumentError, parseCidrList } from '@steppe/shared';
import { CORE_LIST_NAME, CORE_LIST_VERSION, CORE_TARGETS, type Target } from 'steppe-probe';
import { DEFAULT_EVENTS_FILE, type RunningCollector, startCollector } from 'steppe-collector';
import type { Lab, LabOptions } from '../../src/index.js';
import { DemoProbe, type RoundResult } from './demo-probe.js';
import { NetworkGateway } from './gateway.js';
import { type Scenario, roundTimes, targetDomain, within } from './scenario.js';
import { SimClock } from './sim-clock.js';
import { type ApiEpisode, type EpisodeCheck, type TruthNetwork, compareEpisodes, expectedEpisodes, expectedMeasurements } from './truth.js';

/**
 * The offline demo (docs/demo.md): replay a scripted day in the censorship
 * lab — probes in three simulated networks measuring every round, the
 * censor switching behaviours per network, a network shut down, a probe cut
 * off from the collector — with everything flowing through the real engine,
 * outboxes and WebSocket uplinks into a real collector on a simulated clock.
 * Then ask the collector's public API which episodes it found and compare
 * them with the script. The collector is left running for exploring.
 */

/** Loopback only: the egress allow-list of every probe, the control's, and the lab switch. */
export const DEMO_ALLOW_NET = '127.0.0.0/8';

/** The grain at which episodes are compared (the API's and dashboard's default). */
export const DEMO_GRAIN = { name: '1h', ms: 3_600_000 } as const;

/** Longest wait for a reachable probe's outbox to drain after a round. */
const FLUSH_TIMEOUT_MS = 30_000;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly scenario: Scenario;
  /** The lab's `startLab` (the caller imports the lab: its sources in tests, its build in the runner). */
  readonly startLab: (options: LabOptions) => Promise<Lab>;
  /** Where the collector's database and the probes' data go; the demo's own subfolders are replaced. */
  readonly dataDir: string;
  /** Collector address and port (default 127.0.0.1, any free port). */
  readonly host?: string;
  readonly port?: number;
  /** Narrative, as it happens. */
  readonly onEvent?: (event: DemoEvent) => void;
  /** Stops the replay (everything started is closed, the promise rejects). */
  readonly signal?: AbortSignal;
}

/** Counts of one hour (or one round) per network. */
export interface NetworkTally {
  measured: number;
  anomalies: number;
  verdicts: Record<string, number>;
}

/** What the demo reports as it goes; the runner turns it into text. */
export type DemoEvent =
  | { readonly type: 'setup'; readonly collectorUrl: string; readonly gatewayUrl: string; readonly dbPath: string; readonly probes: readonly { readonly name: string; readonly network: string; readonly source: string }[]; readonly targets: readonly string[]; readonly rounds: number; readonly networks: readonly TruthNetwork[] }
  | { readonly type: 'change'; readonly atMs: number; readonly network?: string; readonly probe?: string; readonly text: string }
  /** Counts of an hour per network ("AS9198"), and what waits in outboxes at its end. */
  | { readonly type: 'hour'; readonly fromMs: number; readonly toMs: number; readonly byNetwork: Readonly<Record<string, NetworkTally>>; readonly queued: number }
  | { readonly type: 'delivered'; readonly atMs: number; readonly probe: string; readonly count: number }
  | { readonly type: 'warning'; readonly atMs: number; readonly text: string };

/** What the replay produced and what the collector made of it. */
export interface DemoResult {
  readonly scenario: Scenario;
  readonly networks: readonly TruthNetwork[];
  readonly probes: readonly { readonly name: string; readonly network: string; readonly probeId: string }[];
  readonly rounds: number;
  /** Measurements made, as the scenario counts them and as the collector stored them. */
  readonly measurements: { readonly expected: number; readonly made: number; readonly stored: number; readonly dropped: number };
  readonly episodes: readonly ApiEpisode[];
  readonly comparison: readonly EpisodeCheck[];
  readonly allMatch: boolean;
  /** Wall-clock time of the replay, ms. */
  readonly replayMs: number;
}

/** A finished replay with its collector still running. */
export interface DemoRun {
  readonly result: DemoResult;
  readonly collectorUrl: string;
  /** The dashboard pinned to the replayed window. */
  readonly dashboardUrl: string;
  readonly dbPath: string;
  /** The simulated clock the collector keeps running on. */
  readonly clock: SimClock;
  /** Stop the collector. */
  close(): Promise<void>;
}

/** "2020-12-05T18:00Z": the short ISO form the API accepts. */
export function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** The dashboard URL for the replayed window. */
export function dashboardPermalink(collectorUrl: string, scenario: Scenario): string {
  const q = new URLSearchParams({ since: isoMinute(scenario.window.fromMs), until: isoMinute(scenario.window.toMs), grain: DEMO_GRAIN.name, time_zone: scenario.timeZone });
  return `${collectorUrl}/dashboard?${q.toString()}`;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

/** The collector's `--networks` file for the lab's in-country networks (lab source ranges → ASN, KZ, name). */
function writeNetworksFile(path: string, lab: Lab): void {
  const entries = lab.networks.filter((n) => n.role === 'in-country').map((n) => ({ cidr: n.cidr, asn: n.asn, cc: 'KZ', name: n.name.replace(/^AS\d+\s+/, '') }));
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`);
}

function sourceOf(lab: Lab, network: string, host: number): string {
  const base = lab.source(network);
  return `${base.slice(0, base.lastIndexOf('.') + 1)}${host}`;
}

/** "facebook.com, instagram.com (and their www. names)". */
function domainList(domains: readonly string[]): string {
  const short = domains.filter((d) => !(d.startsWith('www.') && domains.includes(d.slice(4))));
  return `${short.join(', ')}${short.length < domains.length ? ' (and their www. names)' : ''}`;
}

function checkNotAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : new Error('demo aborted');
}

/**
 * Replay `options.scenario` and return the running collector with the
 * comparison of its episodes against the script. Everything but the
 * collector (lab, gateway, probes) is closed before this resolves.
 */
export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const { scenario } = options;
  // Every target in flight listens on the stop signal: dozens at once, by design.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onAbort = (): void => stop.abort(options.signal?.reason);
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  const emit = options.onEvent ?? (() => undefined);
  const allowNet: Cidr[] = parseCidrList(DEMO_ALLOW_NET);
  // Setting up (lab certificates, collector) happens in the minute before the first round.
  const clock = new SimClock(scenario.window.fromMs - 60_000);
  const started = performance.now();

  const collectorDir = join(options.dataDir, 'collector');
  const probesDir = join(options.dataDir, 'probes');
  const networksFile = join(options.dataDir, 'networks.json');
  for (const path of [collectorDir, probesDir, networksFile]) rmSync(path, { recursive: true, force: true });
  mkdirSync(collectorDir, { recursive: true });
  const dbPath = join(collectorDir, 'collector.sqlite');

  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const stop of cleanup.splice(0).reverse()) {
      try {
        await stop();
      } catch {
        // Closing is best effort: one failure must not keep the rest open.
      }
    }
  };
  let collector: RunningCollector | undefined;
  try {
    const lab = await options.startLab({ extraSites: scenario.extraSites, clock });
    cleanup.push(() => lab.close());
    const networks: TruthNetwork[] = lab.networks.filter((n) => n.role === 'in-country').map((n) => ({ id: n.id, asn: n.asn, name: n.name }));
    const controlSource = lab.networks.find((n) => n.role === 'control')?.source;
    if (controlSource === undefined) throw new Error('the lab has no control network');
    writeNetworksFile(networksFile, lab);

    collector = await startCollector({
      db: dbPath,
      dataDir: collectorDir,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      control: { resolver: lab.resolver, localAddress: controlSource, allowNet, extraCa: [lab.rootCaPem] },
      networksFile,
      geoDatabases: false,
      eventsFile: fileURLToPath(DEFAULT_EVENTS_FILE),
      clock,
    });
    const running = collector;
    const collectorAddress = new URL(running.url);
    const gateway = await NetworkGateway.start({
      host: '127.0.0.1',
      upstream: { host: collectorAddress.hostname, port: Number(collectorAddress.port) },
      networks: lab.networks.map((n) => ({ id: n.id, cidr: n.cidr })),
    });
    cleanup.push(() => gateway.close());

    // The core list's URLs, at the lab's port, with the list's metadata (category, version).
    const targets: Target[] = scenario.targets.map((url) => {
      const core = CORE_TARGETS.find((t) => t.url === url);
      if (core === undefined) throw new InvalidArgumentError(`scenario target ${url} is not in the probe's core list`);
      const u = new URL(url);
      return {
        url: lab.url(targetDomain(url), u.protocol === 'http:' ? 'http' : 'https', `${u.pathname}${u.search}`),
        categoryCode: core.categoryCode,
        testList: CORE_LIST_NAME,
        testListVersion: CORE_LIST_VERSION,
      };
    });
    const probes = scenario.probes.map((p) => {
      const probe = DemoProbe.open({
        name: p.name,
        network: p.network,
        dataDir: join(probesDir, p.name),
        source: sourceOf(lab, p.network, p.host),
        collectorUrl: gateway.url,
        resolver: lab.resolver,
        allowNet,
        extraCaPem: [lab.rootCaPem],
        interceptionRootsPem: [lab.stateRootPem],
        perTargetTimeoutMs: scenario.probeSettings.perTargetTimeoutMs,
        concurrency: scenario.probeSettings.concurrency,
        clock,
      });
      cleanup.push(() => probe.close());
      return probe;
    });
    const byName = new Map(probes.map((p) => [p.name, p]));
    const networkName = (id: string): string => networks.find((n) => n.id === id)?.name ?? id;
    const rounds = roundTimes(scenario);
    emit({
      type: 'setup',
      collectorUrl: running.url,
      gatewayUrl: gateway.url,
      dbPath,
      probes: probes.map((p) => ({ name: p.name, network: p.network, source: p.source })),
      targets: scenario.targets,
      rounds: rounds.length,
      networks,
    });

    // Scenario state applied so far: lab rule ids by rule index, cuts in force.
    const blockingRules = new Map<number, string>();
    const shutdownRules = new Map<number, string>();
    const offlineCuts = new Set<number>();
    const measuring = new Set<string>();
    const cutOff = (probe: DemoProbe, t: number): boolean =>
      scenario.shutdowns.some((s, i) => shutdownRules.has(i) && s.network === probe.network && within(s, t))
      || scenario.offline.some((o, i) => offlineCuts.has(i) && o.probe === probe.name);

    const applyProbes = (t: number): void => {
      scenario.probes.forEach((p) => {
        const on = within(p, t);
        if (on && !measuring.has(p.name)) {
          measuring.add(p.name);
          if (t > scenario.window.fromMs) emit({ type: 'change', atMs: t, network: p.network, probe: p.name, text: `${p.name} (${networkName(p.network)}) starts measuring${p.note === '' ? '' : `: ${p.note}`}` });
        } else if (!on && measuring.has(p.name)) {
          measuring.delete(p.name);
          emit({ type: 'change', atMs: t, network: p.network, probe: p.name, text: `${p.name} stops measuring` });
        }
      });
    };
    const applyRules = (t: number): void => {
      scenario.blocking.forEach((rule, i) => {
        const on = within(rule, t);
        const id = blockingRules.get(i);
        if (on && id === undefined) {
          blockingRules.set(i, lab.censor.apply({ domains: [...rule.domains], networks: [rule.network], behaviour: { kind: rule.behaviour } }));
          emit({ type: 'change', atMs: t, network: rule.network, text: `${networkName(rule.network)} blocks ${domainList(rule.domains)} by ${rule.behaviour}${rule.note === '' ? '' : `: ${rule.note}`}` });
        } else if (!on && id !== undefined) {
          lab.censor.lift(id);
          blockingRules.delete(i);
          emit({ type: 'change', atMs: t, network: rule.network, text: `${networkName(rule.network)} lifts its ${rule.behaviour} of ${domainList(rule.domains)}` });
        }
      });
      scenario.shutdowns.forEach((s, i) => {
        const on = within(s, t);
        const id = shutdownRules.get(i);
        if (on && id === undefined) {
          shutdownRules.set(i, lab.censor.shutdown(s.network, s.mode));
          gateway.cut({ network: s.network }, s.mode);
          emit({ type: 'change', atMs: t, network: s.network, text: `${networkName(s.network)} shut down (${s.mode})${s.note === '' ? '' : `: ${s.note}`}` });
        } else if (!on && id !== undefined) {
          lab.censor.lift(id);
          gateway.restore({ network: s.network });
          shutdownRules.delete(i);
          emit({ type: 'change', atMs: t, network: s.network, text: `${networkName(s.network)} back online` });
        }
      });
      scenario.offline.forEach((o, i) => {
        const on = within(o, t);
        const probe = byName.get(o.probe);
        if (probe === undefined) return;
        if (on && !offlineCuts.has(i)) {
          offlineCuts.add(i);
          gateway.cut({ address: probe.source }, 'reset');
          emit({ type: 'change', atMs: t, network: probe.network, probe: probe.name, text: `${probe.name} loses its route to the collector${o.note === '' ? '' : `: ${o.note}`}` });
        } else if (!on && offlineCuts.has(i)) {
          offlineCuts.delete(i);
          gateway.restore({ address: probe.source });
          emit({ type: 'change', atMs: t, network: probe.network, probe: probe.name, text: `${probe.name} reaches the collector again` });
        }
      });
    };

    // Measurements made while a probe could not reach the collector, not yet reported delivered.
    const backlog = new Map<string, number>();
    // Drain every reachable outbox; report backlogs delivered late.
    const drain = async (t: number): Promise<void> => {
      await Promise.all(probes.map(async (probe) => {
        if (cutOff(probe, t)) return;
        const result = probe.queued === 0 ? { pending: 0 } : await probe.flush(FLUSH_TIMEOUT_MS);
        const late = backlog.get(probe.name) ?? 0;
        if (result.pending > 0) {
          emit({ type: 'warning', atMs: clock.now(), text: `${probe.name}: ${result.pending} measurements still in its outbox after ${FLUSH_TIMEOUT_MS / 1000} s` });
        } else if (late > 0) {
          backlog.delete(probe.name);
          emit({ type: 'delivered', atMs: clock.now(), probe: probe.name, count: late });
        }
      }));
    };

    let made = 0;
    let hour: Record<string, NetworkTally> = {};
    let hourStart = rounds[0] ?? scenario.window.fromMs;
    const flushHour = (fromMs: number): void => {
      const hourMs = Math.floor(fromMs / 3_600_000) * 3_600_000;
      emit({ type: 'hour', fromMs: hourMs, toMs: Math.min(hourMs + 3_600_000, scenario.window.toMs), byNetwork: hour, queued: probes.reduce((n, p) => n + p.queued, 0) });
      hour = {};
    };
    for (const t of rounds) {
      checkNotAborted(signal);
      if (Math.floor(t / 3_600_000) !== Math.floor(hourStart / 3_600_000)) {
        flushHour(hourStart);
        hourStart = t;
      }
      clock.jumpTo(t);
      applyProbes(t);
      applyRules(t);
      const active = probes.filter((p) => measuring.has(p.name));
      const results: [DemoProbe, RoundResult][] = await Promise.all(active.map(async (p) => [p, await p.measure(targets, signal)] as [DemoProbe, RoundResult]));
      for (const [p, r] of results) {
        made += r.measured;
        if (cutOff(p, t)) backlog.set(p.name, (backlog.get(p.name) ?? 0) + r.measured);
        const label = `AS${networks.find((n) => n.id === p.network)?.asn ?? 0}`;
        const tally = (hour[label] ??= { measured: 0, anomalies: 0, verdicts: {} });
        tally.measured += r.measured;
        tally.anomalies += r.anomalies;
        for (const [v, n] of Object.entries(r.verdicts)) tally.verdicts[v] = (tally.verdicts[v] ?? 0) + n;
      }
      await drain(t);
    }
    flushHour(hourStart);

    // The window ends: every cut still in force is lifted so that nothing stays behind in an outbox.
    checkNotAborted(signal);
    if (clock.now() < scenario.window.toMs) clock.jumpTo(scenario.window.toMs);
    applyRules(scenario.window.toMs);
    await drain(scenario.window.toMs);
    const dropped = probes.reduce((n, p) => n + p.dropped, 0);
    const leftBehind = probes.reduce((n, p) => n + p.queued, 0);
    if (leftBehind > 0) emit({ type: 'warning', atMs: clock.now(), text: `${leftBehind} measurements never left their outboxes` });
    const probeIds = probes.map((p) => ({ name: p.name, network: p.network, probeId: p.probeId }));
    await closeAll();

    // What the collector found, through its public API.
    const range = `since=${isoMinute(scenario.window.fromMs)}&until=${isoMinute(scenario.window.toMs)}`;
    const episodes = (await getJson<{ results: ApiEpisode[] }>(`${running.url}/api/v1/episodes?${range}&grain=${DEMO_GRAIN.name}&time_zone=${encodeURIComponent(scenario.timeZone)}`)).results;
    const totals = await getJson<{ result: { measurement_count: number } }>(`${running.url}/api/v1/aggregation?${range}`);
    const comparison = compareEpisodes(expectedEpisodes(scenario, networks), episodes, DEMO_GRAIN.ms);
    const result: DemoResult = {
      scenario,
      networks,
      probes: probeIds,
      rounds: rounds.length,
      measurements: { expected: expectedMeasurements(scenario).total, made, stored: totals.result.measurement_count, dropped },
      episodes,
      comparison,
      allMatch: comparison.every((c) => c.ok),
      replayMs: Math.round(performance.now() - started),
    };
    return {
      result,
      collectorUrl: running.url,
      dashboardUrl: dashboardPermalink(running.url, scenario),
      dbPath,
      clock,
      close: () => running.close(),
    };
  } catch (err) {
    await closeAll();
    await collector?.close();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
