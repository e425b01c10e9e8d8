import type { Translator } from '@steppe/shared';
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
 * Words are in the translator's language; verdict names stay English.
 */
export function createProgressView(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, tr: Translator): ProgressView {
  let anomalies = 0;
  let drawn = false;
  if (out.isTTY === true) {
    return {
      update(p) {
        if (p.anomaly) anomalies += 1;
        const ratio = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
        const filled = Math.round(ratio * BAR_WIDTH);
        const head = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} ${String(Math.round(ratio * 100)).padStart(3)}%  ${tr.t('progress.anomalies', { count: anomalies })}  `;
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
      out.write(`[${p.done}/${p.total}] ${p.verdict}${p.anomaly ? tr.t('progress.anomalyMark') : ''} ${p.url}\n`);
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

/** Verdicts that are anomalies (not accessible, not down, not "none"), counted. */
export function anomalyCount(verdicts: Readonly<Record<string, number>>): number {
  return Object.entries(verdicts).filter(([v]) => v !== 'accessible' && v !== 'down' && v !== 'none').reduce((a, [, n]) => a + n, 0);
}

/** The end-of-run summary: what ran, verdict counts, and every anomaly by name (verdict names stay English). */
export function formatRunSummary(run: RunRecord, tr: Translator): string {
  const lines: string[] = [];
  lines.push(tr.t('summary.run', { id: run.id, kind: tr.t(`run.kind.${run.kind}`), outcome: tr.t(`run.outcome.${run.outcome}`), took: formatDuration(run.finishedAtMs - run.startedAtMs) }));
  lines.push(tr.t('summary.lists', { lists: run.lists.join(', ') || tr.t('summary.none'), version: run.testListVersion, budget: run.limitedByBudget ? 'yes' : 'no' }));
  for (const c of run.connectivity) {
    lines.push(tr.t(c.reachable ? 'summary.reachable' : 'summary.unreachable', { role: c.role, url: c.url, failure: c.failure || tr.t('status.noAnswer') }));
  }
  const measuredTargets = Object.values(run.verdicts).reduce((a, b) => a + b, 0);
  lines.push(tr.t('summary.measured', { measured: measuredTargets, targets: run.targets, moved: formatBytes(run.bytesMoved) }));
  if (run.error !== undefined) lines.push(tr.t('summary.error', { error: run.error }));
  const verdicts = Object.entries(run.verdicts).sort((a, b) => b[1] - a[1]);
  if (verdicts.length > 0) {
    lines.push('');
    lines.push(table([[tr.t('summary.verdict'), tr.t('summary.count')], ...verdicts.map(([v, n]) => [v, tr.number(n)])]));
  }
  const anomalies = anomalyCount(run.verdicts);
  lines.push('');
  if (run.anomalies.length === 0) {
    lines.push(tr.t('summary.noAnomalies'));
  } else {
    lines.push(tr.t('summary.anomalies', { count: Math.max(anomalies, run.anomalies.length) }));
    lines.push(
      table([
        ['url', 'verdict', 'type', 'confirmed', 'failure'].map((h) => tr.t(`summary.column.${h}`)),
        ...run.anomalies.map((a) => [a.url, a.verdict, a.blockingType || '-', tr.t(a.confirmed ? 'summary.yes' : 'summary.no'), a.failure || '-']),
      ]),
    );
    if (anomalies > run.anomalies.length) lines.push(`  ${tr.t('summary.more', { count: anomalies - run.anomalies.length })}`);
  }
  return `${lines.join('\n')}\n`;
}
