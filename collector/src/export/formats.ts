import type { IterateOptions, MeasurementFilter, MeasurementRecord } from '../store/store.js';
import { csvHeader, csvRow } from './csv.js';
import { type ExportSource, decodeStored, exportRows } from './export-row.js';
import { ooniJsonLine } from './ooni-jsonl.js';
import { type ProofMode, ProofWriter, steppeJsonLine } from './steppe-jsonl.js';

/** The export formats. */
export const EXPORT_FORMAT_NAMES = ['jsonl', 'csv', 'ooni.jsonl'] as const;
export type ExportFormatName = (typeof EXPORT_FORMAT_NAMES)[number];

/** What a format is called on disk and on the wire. */
export interface ExportFormat {
  readonly name: ExportFormatName;
  /** File name in a snapshot and in Content-Disposition (before any ".gz"). */
  readonly fileName: string;
  readonly contentType: string;
  readonly description: string;
}

/** Every format, by name. */
export const EXPORT_FORMATS: Readonly<Record<ExportFormatName, ExportFormat>> = {
  jsonl: {
    name: 'jsonl',
    fileName: 'measurements.jsonl',
    contentType: 'application/x-ndjson; charset=utf-8',
    description: "JSON Lines in Steppe's schema, with each measurement's proof",
  },
  csv: {
    name: 'csv',
    fileName: 'measurements.csv',
    contentType: 'text/csv; charset=utf-8; header=present',
    description: 'CSV of the queryable columns (RFC 4180)',
  },
  'ooni.jsonl': {
    name: 'ooni.jsonl',
    fileName: 'measurements.ooni.jsonl',
    contentType: 'application/x-ndjson; charset=utf-8',
    description: "JSON Lines in OONI's data format (web_connectivity test keys)",
  },
};

/** A source that can also stream records without their bytes (cheaper for CSV). */
export type RecordSource = ExportSource & {
  iterateRecords?(filter: MeasurementFilter, options?: IterateOptions): Iterable<MeasurementRecord>;
};

/** Counts kept while lines are produced. */
export interface ExportCounter {
  rows: number;
  firstStartMs: number | null;
  lastStartMs: number | null;
}

/** A fresh counter. */
export function newCounter(): ExportCounter {
  return { rows: 0, firstStartMs: null, lastStartMs: null };
}

function count(counter: ExportCounter, startMs: number): void {
  counter.rows += 1;
  if (counter.firstStartMs === null || startMs < counter.firstStartMs) counter.firstStartMs = startMs;
  if (counter.lastStartMs === null || startMs > counter.lastStartMs) counter.lastStartMs = startMs;
}

/**
 * The lines of one export, header first (CSV), in ascending start time.
 * Lazy: the store is read page by page as the consumer pulls.
 */
export function* exportLines(
  source: RecordSource,
  filter: MeasurementFilter,
  format: ExportFormatName,
  counter: ExportCounter = newCounter(),
  options: { readonly proofs?: ProofMode } = {},
): Generator<string, void, undefined> {
  switch (format) {
    case 'csv': {
      yield csvHeader();
      const records = source.iterateRecords !== undefined ? source.iterateRecords(filter, { order: 'asc' }) : source.iterateMeasurements(filter, { order: 'asc' });
      for (const r of records) {
        count(counter, r.startMs);
        yield csvRow(r);
      }
      return;
    }
    case 'jsonl': {
      const proofs = new ProofWriter(options.proofs ?? 'compact');
      for (const row of exportRows(source, filter, true)) {
        count(counter, row.startMs);
        yield steppeJsonLine(row, decodeStored(row), proofs);
      }
      return;
    }
    case 'ooni.jsonl':
      for (const row of exportRows(source, filter, false)) {
        count(counter, row.startMs);
        yield ooniJsonLine(row, decodeStored(row));
      }
      return;
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

/** Chunk size handed to streams: large enough to amortise calls, small enough to keep memory flat. */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/** Group lines into chunks of about `size` characters. */
export function* chunked(lines: Iterable<string>, size: number = EXPORT_CHUNK_CHARS): Generator<string, void, undefined> {
  let parts: string[] = [];
  let length = 0;
  for (const line of lines) {
    parts.push(line);
    length += line.length;
    if (length >= size) {
      yield parts.join('');
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}
