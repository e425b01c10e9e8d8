import { existsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type CliIO, type Command, EXIT, type Json, UsageError, check, checkOption, defaultVerdictReference, parseCommandLine, systemClock } from '@steppe/shared';
import { type OoniDisagreement, disagreementJson } from '../../ooni/disagreements.js';
import { type OoniImportSummary, importOoniFile } from '../../ooni/importer.js';
import { openStore } from '../../store/open-store.js';
import { dbOption } from '../options.js';

const HELP = `Usage: steppe-collector import-ooni FILE.jsonl[.gz] [FILE...] --db FILE|URL [options]

Import OONI web_connectivity measurements (JSON Lines, one measurement a
line, plain or gzip; any test version from 0.1 to 0.5) so OONI's data and
Steppe's sit on one timeline. Each measurement's observations and control are
converted to Steppe's form and analysed by Steppe's verdict engine; OONI's
own blocking/accessible is kept beside Steppe's verdict (where the control
failed too, Steppe says "down", not blocked). Measurements are stored with
source "ooni"; ids are derived from each record, so importing a file again
stores nothing twice. Lines that cannot be used are reported with their
line number and skipped; they never stop the import.

Options:
  --db FILE|URL      the collector's database: a SQLite file (created if
                     missing) or a PostgreSQL URL (postgres://user@host/db;
                     default $STEPPE_DB)
  --batch-size N     measurements per transaction (default 500)
  --drop-original    do not keep each OONI record beside its conversion
  --disagreements FILE
                     write every measurement where OONI's verdict and
                     Steppe's differ to FILE (JSON Lines: both verdicts,
                     Steppe's evidence, the known difference if one)
  --json             print the summary as JSON

Exit status: 0 imported (skipped lines are reported, not fatal); 1 a file
could not be read or nothing in it was usable; 2 bad options.
`;

const OPTIONS = {
  db: { type: 'string' },
  'batch-size': { type: 'string' },
  'drop-original': { type: 'boolean' },
  disagreements: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The summary as text: counts, skipped lines, and OONI × Steppe agreement. */
export function formatSummary(file: string, s: OoniImportSummary): string {
  const out: string[] = [];
  out.push(`${file}: ${s.lines} lines, ${s.imported} imported, ${s.duplicates} duplicates (already stored), ${s.skipped} skipped${s.interrupted ? ' (interrupted)' : ''}`);
  const versions = Object.entries(s.testVersions).sort(([a], [b]) => a.localeCompare(b));
  if (versions.length > 0) out.push(`web_connectivity versions: ${versions.map(([v, n]) => `${v} (${n})`).join(', ')}`);
  if (s.skipped > 0) {
    out.push('skipped:');
    for (const [reason, n] of Object.entries(s.skippedByReason).sort(([, a], [, b]) => b - a)) out.push(`  ${n} × ${reason}`);
    for (const p of s.problems) out.push(`  line ${p.line}: ${p.reason}`);
    if (s.problems.length < s.skipped) out.push(`  ... ${s.skipped - s.problems.length} more`);
  }
  const rows = Object.keys(s.agreement).sort();
  if (rows.length > 0) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(s.agreement[r] ?? {})))].sort();
    const first = Math.max('OONI blocking \\ Steppe'.length, ...rows.map((r) => r.length));
    const widths = columns.map((c) => Math.max(c.length, 5));
    out.push('agreement (rows: OONI blocking, columns: Steppe verdict):');
    out.push(`  ${pad('OONI blocking \\ Steppe', first)}  ${columns.map((c, i) => pad(c, widths[i] ?? 5)).join('  ')}`);
    for (const r of rows) {
      const cells = columns.map((c, i) => pad(String(s.agreement[r]?.[c] ?? 0), widths[i] ?? 5));
      out.push(`  ${pad(r, first)}  ${cells.join('  ')}`);
    }
    const known = Object.entries(s.knownDifferences).sort(([a], [b]) => a.localeCompare(b));
    const of = known.length > 0 ? ` (known differences: ${known.map(([k, n]) => `${k} ${n}`).join(', ')})` : '';
    out.push(`disagreements with OONI (in OONI's terms): ${s.disagreements}${of}`);
  }
  return `${out.join('\n')}\n`;
}

/** The disagreements file, JSON Lines, written as the import goes. */
interface DisagreementsFile {
  write(line: Json): Promise<void>;
  close(): Promise<void>;
}

async function openDisagreements(path: string): Promise<DisagreementsFile> {
  let handle: FileHandle;
  try {
    handle = await open(resolve(path), 'w');
  } catch (cause) {
    throw new UsageError(`option --disagreements: cannot write ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  return {
    write: async (line) => {
      await handle.write(`${JSON.stringify(line)}\n`);
    },
    close: () => handle.close(),
  };
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, true);
  if (positionals.length === 0) throw new UsageError('at least one FILE.jsonl[.gz] is required');
  const db = dbOption(values.db, io.env);
  if (db === undefined) throw new UsageError('option --db is required (or set $STEPPE_DB)');
  const batchSize = checkOption('--batch-size', values['batch-size'] ?? '500', check.integer({ min: 1, max: 100_000 }));
  const files = positionals.map((p) => resolve(p));
  for (const f of files) if (!existsSync(f)) throw new UsageError(`no file at ${f}`);
  const reference = defaultVerdictReference();
  const disagreements = values.disagreements === undefined ? undefined : await openDisagreements(values.disagreements);
  const store = await openStore(db);
  let failed = false;
  const summaries: Record<string, OoniImportSummary> = {};
  try {
    for (const file of files) {
      const summary = await importOoniFile(file, {
        store,
        reference,
        clock: systemClock,
        batchSize,
        keepOriginal: values['drop-original'] !== true,
        signal: io.signal,
        ...(disagreements === undefined ? {} : { onDisagreement: (d: OoniDisagreement) => disagreements.write(disagreementJson(d, file)) }),
      });
      summaries[file] = summary;
      if (summary.imported + summary.duplicates === 0) failed = true;
      if (values.json !== true) io.stdout.write(formatSummary(file, summary));
      if (summary.interrupted) break;
    }
  } finally {
    await store.close();
    await disagreements?.close();
  }
  if (values.json === true) io.stdout.write(`${JSON.stringify(summaries, null, 2)}\n`);
  return failed ? EXIT.FAILED : EXIT.OK;
}

/** `steppe-collector import-ooni`. */
export const importOoniCommand: Command = {
  name: 'import-ooni',
  summary: 'Import OONI web_connectivity measurements (JSONL[.gz])',
  help: HELP,
  run,
};
