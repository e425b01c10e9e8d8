import type { DemoEvent, DemoResult, DemoRun } from './demo.js';
import { type Scenario, localClock, utcClock } from './scenario.js';
import type { EpisodeCheck, TruthNetwork } from './truth.js';

/**
 * Text for the demo's terminal: the narrative lines and the final table.
 * Pure functions returning strings; only the runner (run-demo.mjs) prints.
 */

function localLabel(scenario: Scenario): string {
  return scenario.timeZone.split('/').pop()?.replace(/_/g, ' ') ?? scenario.timeZone;
}

/** "10:00 (04:00 UTC)". */
export function when(scenario: Scenario, ms: number): string {
  return `${localClock(scenario, ms)} (${utcClock(ms)} UTC)`;
}

function span(clock: (ms: number) => string, from: number, to: number): string {
  const end = clock(to);
  return `${clock(from)}–${end === '00:00' && to > from ? '24:00' : end}`;
}

function networkLabel(networks: readonly TruthNetwork[], asn: number): string {
  return networks.find((n) => n.asn === asn)?.name ?? `AS${asn}`;
}

function tally(verdicts: Readonly<Record<string, number>>): string {
  return Object.entries(verdicts).sort((a, b) => b[1] - a[1]).map(([v, n]) => `${n} ${v}`).join(', ');
}

/** The narrative line(s) for one event (empty for events not worth a line). */
export function formatEvent(scenario: Scenario, event: DemoEvent): string[] {
  const local = localLabel(scenario);
  switch (event.type) {
    case 'setup':
      return [
        `Collector   ${event.collectorUrl}   (database ${event.dbPath})`,
        `Probes      ${event.probes.map((p) => `${p.name} ${p.source}`).join(', ')}`,
        `Networks    ${event.networks.map((n) => n.name).join(' · ')}`,
        `Targets     ${event.targets.join(' ')}`,
        `Rounds      ${event.rounds}, every ${scenario.intervalMs / 60_000} min of simulated time, ${local} time (UTC${scenario.utcOffset}) first`,
        '',
      ];
    case 'change':
      return [`${when(scenario, event.atMs)}  ▸ ${event.text}`];
    case 'delivered':
      return [`${when(scenario, event.atMs)}    ${event.probe} uploads the ${event.count} measurements it made while cut off, from its outbox`];
    case 'warning':
      return [`${when(scenario, event.atMs)}  ! ${event.text}`];
    case 'hour': {
      let quiet = event.queued === 0;
      const parts = Object.entries(event.byNetwork).map(([network, t]) => {
        const other = Object.fromEntries(Object.entries(t.verdicts).filter(([v]) => v !== 'accessible'));
        if (Object.keys(other).length > 0) quiet = false;
        return `${network} ${t.measured}${Object.keys(other).length > 0 ? ` (${tally(other)})` : ' ok'}`;
      });
      // Uneventful hours only every third hour, to show the replay going on.
      if (quiet && Math.round((event.fromMs - scenario.window.fromMs) / 3_600_000) % 3 !== 0) return [];
      const hour = span((ms) => localClock(scenario, ms), event.fromMs, event.toMs).padEnd(19);
      if (parts.length === 0) return [`${hour}  no probe measuring`];
      return [`${hour}  measured ${parts.join(' · ')}${event.queued > 0 ? ` · ${event.queued} waiting in outboxes` : ''}`];
    }
  }
}

/** A plain text table, columns padded to their widest cell. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

function row(scenario: Scenario, networks: readonly TruthNetwork[], c: EpisodeCheck): string[] {
  const e = c.expected;
  const f = c.found;
  const local = (ms: number): string => localClock(scenario, ms);
  const asn = f?.probe_asn ?? e?.asn ?? 0;
  return [
    (f?.domain ?? e?.domain) ?? '(whole network)',
    networkLabel(networks, asn),
    e === undefined ? '—' : `${e.kind === 'shutdown' ? 'shutdown ' : ''}${span(local, e.fromMs, e.toMs)}`,
    f === undefined ? '—' : span(utcClock, Date.parse(f.onset), Date.parse(f.end)),
    f === undefined ? '—' : span(local, Date.parse(f.onset), Date.parse(f.end)),
    f === undefined ? (e?.blockingType ?? '') : f.blocking_types.join('+'),
    f === undefined ? '' : String(f.probes),
    f === undefined ? '' : String(f.measurements),
    f === undefined ? '' : f.confidence.toFixed(2),
    c.ok ? '✓' : `✗ ${c.problems.join('; ')}`,
  ];
}

/** The final report: episodes found vs scripted, counts, and where to look. */
export function formatResult(run: Pick<DemoRun, 'result' | 'dashboardUrl' | 'collectorUrl' | 'dbPath'>): string[] {
  const r: DemoResult = run.result;
  const s = r.scenario;
  const local = localLabel(s);
  const m = r.measurements;
  const ok = r.comparison.filter((c) => c.ok).length;
  return [
    '',
    `Episodes the collector found (GET /api/v1/episodes, hourly buckets) vs the script — ${ok} of ${r.comparison.length} match:`,
    '',
    ...textTable(
      ['website', 'network', `scripted (${local})`, 'found UTC', `found ${local}`, 'type', 'probes', 'meas.', 'conf.', 'match'],
      r.comparison.map((c) => row(s, r.networks, c)),
    ),
    '',
    `Measurements: ${m.made} made by ${r.probes.length} probes in ${r.rounds} rounds (script: ${m.expected}), ${m.stored} stored by the collector, ${m.dropped} dropped.`,
    `Replay took ${(r.replayMs / 1000).toFixed(1)} s of wall time for ${((s.window.toMs - s.window.fromMs) / 3_600_000).toFixed(0)} h of simulated time.`,
    '',
    `Dashboard   ${run.dashboardUrl}`,
    `Episodes    ${run.collectorUrl}/api/v1/episodes?since=${new Date(s.window.fromMs).toISOString().slice(0, 16)}Z&until=${new Date(s.window.toMs).toISOString().slice(0, 16)}Z&time_zone=${encodeURIComponent(s.timeZone)}`,
    `Database    ${run.dbPath}`,
  ];
}
