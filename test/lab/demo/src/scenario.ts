import { fileURLToPath } from 'node:url';
import { type Checked, ConfigError, check, loadJsonConfigFile } from '@steppe/shared';

/**
 * The demo's scripted truth (test/lab/demo/scenario.json): a day, the probes
 * of each lab network, and what the censor does when. Times in the file are
 * local "HH:MM" of the scenario's date at its fixed UTC offset (Almaty was
 * UTC+6 all year in 2020); everything here turns them into Unix ms once.
 * The demo replays it; the demo's test reads the same file and derives the
 * episodes the collector must find (truth.ts).
 */

/** The scenario file shipped with the demo. */
export const SCENARIO_FILE = fileURLToPath(new URL('../scenario.json', import.meta.url));

/** Censor behaviours the scenario may script for blocking (the lab's kinds). */
export const BLOCKING_BEHAVIOURS = ['tls-intercept', 'sni-reset', 'dns-inject', 'sni-timeout', 'tcp-reset', 'dns-nxdomain', 'http-blockpage'] as const;
export type BlockingBehaviour = (typeof BLOCKING_BEHAVIOURS)[number];

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const localTime = check.string({ pattern: HHMM, describe: 'a local time "HH:MM" (00:00 to 24:00)' });
const note = check.optional(check.string({ max: 400 }), '');
const domain = check.string({ min: 1, max: 253, pattern: /^[a-z0-9.-]+$/, describe: 'a lower-case host name' });

const schema = check.object({
  $comment: note,
  title: check.string({ min: 1, max: 200 }),
  date: check.string({ pattern: /^\d{4}-\d{2}-\d{2}$/, describe: 'a date YYYY-MM-DD' }),
  timeZone: check.string({ min: 1, max: 64 }),
  utcOffset: check.string({ pattern: /^[+-](?:0\d|1[0-4]):[0-5]\d$/, describe: 'a UTC offset such as +06:00' }),
  window: check.object({ from: localTime, to: localTime }),
  intervalMinutes: check.integer({ min: 1, max: 240 }),
  probeSettings: check.object({
    $comment: note,
    perTargetTimeoutMs: check.integer({ min: 1000, max: 60_000 }),
    concurrency: check.integer({ min: 1, max: 32 }),
  }),
  targets: check.list(check.url({ protocols: ['https:', 'http:'] }), { min: 1, max: 50 }),
  extraSites: check.list(check.object({
    domain,
    title: check.string({ min: 1, max: 200 }),
    tagline: check.string({ min: 1, max: 400 }),
    organization: check.string({ min: 1, max: 200 }),
    altNames: check.optional(check.list(domain, { max: 10 }), []),
  }), { max: 50 }),
  probes: check.list(check.object({
    name: check.string({ min: 1, max: 40, pattern: /^[a-z][a-z0-9-]*$/, describe: 'a short name such as kt-almaty' }),
    network: check.string({ min: 1, max: 32 }),
    host: check.integer({ min: 2, max: 254 }),
    from: check.optional(localTime, ''),
    to: check.optional(localTime, ''),
    note,
  }), { min: 1, max: 64 }),
  blocking: check.list(check.object({
    network: check.string({ min: 1, max: 32 }),
    behaviour: check.oneOf(BLOCKING_BEHAVIOURS),
    domains: check.list(domain, { min: 1, max: 50 }),
    from: localTime,
    to: localTime,
    blockingType: check.string({ min: 1, max: 40 }),
    note,
  }), { max: 50 }),
  shutdowns: check.list(check.object({
    network: check.string({ min: 1, max: 32 }),
    from: localTime,
    to: localTime,
    mode: check.oneOf(['drop', 'reset'] as const),
    note,
  }), { max: 20 }),
  offline: check.list(check.object({
    probe: check.string({ min: 1, max: 40 }),
    from: localTime,
    to: localTime,
    note,
  }), { max: 20 }),
});

/** The scenario file as written. */
export type ScenarioFile = Checked<typeof schema>;

/** A time span [fromMs, toMs). */
export interface Span {
  readonly fromMs: number;
  readonly toMs: number;
}

/** A probe of the scenario, its times resolved. */
export interface ScenarioProbe extends Span {
  readonly name: string;
  /** Lab network id, e.g. "kazakhtelecom". */
  readonly network: string;
  /** Host number inside the network's /24 (its source address). */
  readonly host: number;
  readonly note: string;
}

/** A blocking rule of the scenario. */
export interface ScenarioBlocking extends Span {
  readonly network: string;
  readonly behaviour: BlockingBehaviour;
  readonly domains: readonly string[];
  /** The blocking type the probe's verdict engine must report for it. */
  readonly blockingType: string;
  readonly note: string;
}

/** A network shut down entirely. */
export interface ScenarioShutdown extends Span {
  readonly network: string;
  readonly mode: 'drop' | 'reset';
  readonly note: string;
}

/** A probe cut off from the collector (it keeps measuring into its outbox). */
export interface ScenarioOffline extends Span {
  readonly probe: string;
  readonly note: string;
}

/** A scenario with every time in Unix ms. */
export interface Scenario {
  readonly title: string;
  readonly date: string;
  readonly timeZone: string;
  readonly utcOffset: string;
  /** The replayed window (the day, or less for a shortened run). */
  readonly window: Span;
  readonly intervalMs: number;
  readonly probeSettings: { readonly perTargetTimeoutMs: number; readonly concurrency: number };
  readonly targets: readonly string[];
  readonly extraSites: ScenarioFile['extraSites'];
  readonly probes: readonly ScenarioProbe[];
  readonly blocking: readonly ScenarioBlocking[];
  readonly shutdowns: readonly ScenarioShutdown[];
  readonly offline: readonly ScenarioOffline[];
}

/** Unix ms of a local "HH:MM" on the scenario's date ("24:00" is the next midnight). */
export function localToMs(file: Pick<ScenarioFile, 'date' | 'utcOffset'>, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const midnight = Date.parse(`${file.date}T00:00:00${file.utcOffset}`);
  if (!Number.isFinite(midnight) || h === undefined || m === undefined) throw new ConfigError('date', `cannot place ${hhmm} on ${file.date}${file.utcOffset}`);
  return midnight + (h * 60 + m) * 60_000;
}

/** Offset of the scenario's local time from UTC, in ms. */
export function offsetMs(scenario: Pick<Scenario, 'utcOffset'>): number {
  const sign = scenario.utcOffset.startsWith('-') ? -1 : 1;
  const [h, m] = scenario.utcOffset.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
}

/** "HH:MM" local time of `ms` in the scenario's offset. */
export function localClock(scenario: Pick<Scenario, 'utcOffset'>, ms: number): string {
  return new Date(ms + offsetMs(scenario)).toISOString().slice(11, 16);
}

/** "HH:MM" UTC of `ms`. */
export function utcClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

function span(file: ScenarioFile, from: string, to: string, field: string): Span {
  const fromMs = localToMs(file, from);
  const toMs = localToMs(file, to);
  if (toMs <= fromMs) throw new ConfigError(field, `field "${field}": "to" (${to}) must be after "from" (${from})`);
  return { fromMs, toMs };
}

/**
 * Validate a parsed scenario and resolve its times. Every probe, blocking
 * rule and shutdown must name a known network (`networks`: the lab's ids),
 * offline entries a known probe, and targets must be unique.
 */
export function resolveScenario(file: ScenarioFile, networks: readonly string[]): Scenario {
  const window = span(file, file.window.from, file.window.to, 'window');
  const knownNetwork = (id: string, field: string): string => {
    if (!networks.includes(id)) throw new ConfigError(field, `field "${field}": unknown network ${JSON.stringify(id)} (known: ${networks.join(', ')})`);
    return id;
  };
  const names = new Set<string>();
  const sources = new Set<string>();
  const probes = file.probes.map((p, i): ScenarioProbe => {
    const field = `probes[${i}]`;
    if (names.has(p.name)) throw new ConfigError(`${field}.name`, `field "${field}.name": duplicate probe ${p.name}`);
    names.add(p.name);
    const source = `${p.network}/${p.host}`;
    if (sources.has(source)) throw new ConfigError(`${field}.host`, `field "${field}.host": two probes share host ${p.host} of ${p.network}`);
    sources.add(source);
    const own = span(file, p.from === '' ? file.window.from : p.from, p.to === '' ? file.window.to : p.to, field);
    return { name: p.name, network: knownNetwork(p.network, `${field}.network`), host: p.host, note: p.note, ...own };
  });
  if (new Set(file.targets).size !== file.targets.length) throw new ConfigError('targets', 'field "targets": a URL is listed twice');
  return {
    title: file.title,
    date: file.date,
    timeZone: file.timeZone,
    utcOffset: file.utcOffset,
    window,
    intervalMs: file.intervalMinutes * 60_000,
    probeSettings: { perTargetTimeoutMs: file.probeSettings.perTargetTimeoutMs, concurrency: file.probeSettings.concurrency },
    targets: file.targets,
    extraSites: file.extraSites,
    probes,
    blocking: file.blocking.map((b, i) => ({
      network: knownNetwork(b.network, `blocking[${i}].network`),
      behaviour: b.behaviour,
      domains: b.domains,
      blockingType: b.blockingType,
      note: b.note,
      ...span(file, b.from, b.to, `blocking[${i}]`),
    })),
    shutdowns: file.shutdowns.map((s, i) => ({ network: knownNetwork(s.network, `shutdowns[${i}].network`), mode: s.mode, note: s.note, ...span(file, s.from, s.to, `shutdowns[${i}]`) })),
    offline: file.offline.map((o, i) => {
      if (!names.has(o.probe)) throw new ConfigError(`offline[${i}].probe`, `field "offline[${i}].probe": unknown probe ${JSON.stringify(o.probe)}`);
      return { probe: o.probe, note: o.note, ...span(file, o.from, o.to, `offline[${i}]`) };
    }),
  };
}

/** Read and validate a scenario file (default: the shipped one). */
export function loadScenario(networks: readonly string[], path: string = SCENARIO_FILE): Scenario {
  return resolveScenario(loadJsonConfigFile(path, schema), networks);
}

/** How to shorten a scenario (the test's quick run). */
export interface ShortenOptions {
  /** New window, local "HH:MM" on the scenario's date. */
  readonly from?: string;
  readonly to?: string;
  readonly intervalMinutes?: number;
  /** Keep only these targets (URLs of the scenario). */
  readonly targets?: readonly string[];
}

/**
 * The same scenario over a shorter window, at another interval or with fewer
 * targets. Probes, rules and outages are clipped to the window (those wholly
 * outside it are dropped), so the truth derived from it stays exact.
 */
export function shortenScenario(scenario: Scenario, options: ShortenOptions): Scenario {
  const file = { date: scenario.date, utcOffset: scenario.utcOffset };
  const window: Span = {
    fromMs: options.from === undefined ? scenario.window.fromMs : localToMs(file, localTime(options.from, 'from')),
    toMs: options.to === undefined ? scenario.window.toMs : localToMs(file, localTime(options.to, 'to')),
  };
  if (window.toMs <= window.fromMs) throw new ConfigError('to', `shortenScenario: "to" must be after "from"`);
  const targets = options.targets ?? scenario.targets;
  for (const t of targets) if (!scenario.targets.includes(t)) throw new ConfigError('targets', `shortenScenario: ${t} is not a target of the scenario`);
  const clip = <T extends Span>(list: readonly T[]): T[] => list
    .filter((s) => s.fromMs < window.toMs && s.toMs > window.fromMs)
    .map((s) => ({ ...s, fromMs: Math.max(s.fromMs, window.fromMs), toMs: Math.min(s.toMs, window.toMs) }));
  return {
    ...scenario,
    window,
    intervalMs: options.intervalMinutes === undefined ? scenario.intervalMs : check.integer({ min: 1, max: 240 })(options.intervalMinutes, 'intervalMinutes') * 60_000,
    targets,
    probes: clip(scenario.probes),
    blocking: clip(scenario.blocking),
    shutdowns: clip(scenario.shutdowns),
    offline: clip(scenario.offline),
  };
}

/** The times of the measurement rounds: every interval from the window's start. */
export function roundTimes(scenario: Scenario): number[] {
  const times: number[] = [];
  for (let t = scenario.window.fromMs; t < scenario.window.toMs; t += scenario.intervalMs) times.push(t);
  return times;
}

/** True when `ms` falls in the span. */
export function within(s: Span, ms: number): boolean {
  return ms >= s.fromMs && ms < s.toMs;
}

/** The host name of a target URL. */
export function targetDomain(url: string): string {
  return new URL(url).hostname.toLowerCase();
}
