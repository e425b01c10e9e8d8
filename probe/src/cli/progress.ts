import type { RunProgress } from '../daemon/probe-run.js';
import type { RunRecord } from '../daemon/run-history.js';

/** Shows a run's progress as it goes. */
export interface ProgressView {
  update(progress: RunProgress): void;
  /** Clear the bar (TTY) before the summary is printed. */
  finish(): void;
}

const BAR_WIDTH = 24;

/**
 * A progress bar redrawn in place on a terminal; plain lines ("[12/40]
 * accessible https://...") otherwise, so logs and pipes stay readable.
 */
export function createProgressView(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): ProgressView {
  let anomalies = 0;
  let drawn = false;
  if (out.isTTY === true) {
    return {
      update(p) {
        if (p.anomaly) anomalies += 1;
        const ratio = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
        const filled = Math.round(ratio * BAR_WIDTH);
        const head = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} ${String(Math.round(ratio * 100)).padStart(3)}%  anomalies ${anomalies}  `;
        const room = Math.max(10, (out.columns ?? 100) - head.length - 1);
        out.write(`\r${head}${shorten(p.url, room)}\x1b[K`);
        drawn = true;
      },
      finish() {
        if (drawn) out.write('\r\x1b[K');
      },
    };
  }
  return {
    update(p) {
      out.write(`[${p.done}/${p.total}] ${p.verdict}${p.anomaly ? ' (anomaly)' : ''} ${p.url}\n`);
    },
    finish() {},
  };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "12.3 MiB" style sizes (binary units, as the config's "10GiB"). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** "2m 13s" style durations. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** A text table: columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd()).join('\n');
}

/** The end-of-run summary: what ran, verdict counts, and every anomaly by name. */
export function formatRunSummary(run: RunRecord): string {
  const lines: string[] = [];
  lines.push(`Run ${run.id}: ${run.kind} run ${run.outcome} in ${formatDuration(run.finishedAtMs - run.startedAtMs)}`);
  lines.push(`Lists: ${run.lists.join(', ') || 'none'} (version ${run.testListVersion})${run.limitedByBudget ? ' (monthly budget reached: core list only)' : ''}`);
  for (const c of run.connectivity) {
    lines.push(`${c.role === 'control' ? 'Control' : 'Collector'} ${c.url}: ${c.reachable ? 'reachable' : `UNREACHABLE (${c.failure || 'no answer'})`}`);
  }
  const measuredTargets = Object.values(run.verdicts).reduce((a, b) => a + b, 0);
  lines.push(`Measured ${measuredTargets} of ${run.targets} targets, ${formatBytes(run.bytesMoved)} moved`);
  if (run.error !== undefined) lines.push(`Error: ${run.error}`);
  const verdicts = Object.entries(run.verdicts).sort((a, b) => b[1] - a[1]);
  if (verdicts.length > 0) {
    lines.push('');
    lines.push(table([['verdict', 'count'], ...verdicts.map(([v, n]) => [v, String(n)])]));
  }
  const anomalyCount = verdicts.filter(([v]) => v !== 'accessible' && v !== 'down' && v !== 'none').reduce((a, [, n]) => a + n, 0);
  lines.push('');
  if (run.anomalies.length === 0) {
    lines.push('No anomalies.');
  } else {
    lines.push(`Anomalies (${Math.max(anomalyCount, run.anomalies.length)}):`);
    lines.push(
      table([
        ['url', 'verdict', 'type', 'confirmed', 'failure'],
        ...run.anomalies.map((a) => [a.url, a.verdict, a.blockingType || '-', a.confirmed ? 'yes' : 'no', a.failure || '-']),
      ]),
    );
    if (anomalyCount > run.anomalies.length) lines.push(`  ... and ${anomalyCount - run.anomalies.length} more`);
  }
  return `${lines.join('\n')}\n`;
}
