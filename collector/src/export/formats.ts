import type { IterateOptions, MeasurementFilter, MeasurementRecord } from '../store/store.js';
import { csvHeader, csvRow } from './csv.js';
import { type ExportSource, decodeStored, exportRows } from './export-row.js';
import { ooniJsonLine } from './ooni-jsonl.js';
import { ByteWriter } from './byte-writer.js';
import { ExportSealer, type SealOptions } from './export-sealer.js';
import { PageBuilder } from './jsonl-page.js';
import type { JsonlWorkerPool } from './jsonl-pool.js';
import { SteppeLineWriter } from './steppe-line-writer.js';
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
  iterateRecords?(filter: MeasurementFilter, options?: IterateOptions): AsyncIterable<MeasurementRecord> | Iterable<MeasurementRecord>;
};

/** Options of the exporters. */
export interface ExportOptions {
  /** How the probe's proofs are written in JSON Lines (default compact). */
  readonly proofs?: ProofMode;
  /** Seal JSON Lines with the collector's key (export-sealer.ts); without it `collector_proof` is null. */
  readonly seal?: SealOptions;
}

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
export async function* exportLines(
  source: RecordSource,
  filter: MeasurementFilter,
  format: ExportFormatName,
  counter: ExportCounter = newCounter(),
  options: ExportOptions = {},
): AsyncGenerator<string, void, undefined> {
  switch (format) {
    case 'csv': {
      yield csvHeader();
      const records = source.iterateRecords !== undefined ? source.iterateRecords(filter, { order: 'asc' }) : source.iterateMeasurements(filter, { order: 'asc' });
      for await (const r of records) {
        count(counter, r.startMs);
        yield csvRow(r);
      }
      return;
    }
    case 'jsonl': {
      const proofs = new ProofWriter(options.proofs ?? 'compact');
      const sealer = new ExportSealer(proofs.mode, options.seal);
      for await (const row of exportRows(source, filter, true)) {
        count(counter, row.startMs);
        for (const s of sealer.add(row)) yield steppeJsonLine(s.row, decodeStored(s.row), proofs, s.collectorProof);
      }
      for (const s of sealer.finish()) yield steppeJsonLine(s.row, decodeStored(s.row), proofs, s.collectorProof);
      return;
    }
    case 'ooni.jsonl':
      for await (const row of exportRows(source, filter, false)) {
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

/** Bytes per chunk of exportChunks. */
export const EXPORT_CHUNK_BYTES = 64 * 1024;

/**
 * The bytes of one export in chunks of about 64 KiB: exactly the text of
 * `exportLines` (header first for CSV, ascending start time), lazily. JSON
 * Lines are written by SteppeLineWriter, which turns each stored
 * measurement's bytes into JSON without decoding it into objects; what the
 * HTTP routes and snapshots stream.
 */
export async function* exportChunks(
  source: RecordSource,
  filter: MeasurementFilter,
  format: ExportFormatName,
  counter: ExportCounter = newCounter(),
  options: ExportOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const out = new ByteWriter(2 * EXPORT_CHUNK_BYTES);
  if (format === 'jsonl') {
    const mode = options.proofs ?? 'compact';
    const writer = new SteppeLineWriter(new ProofWriter(mode));
    const sealer = new ExportSealer(mode, options.seal);
    // A sealed page comes out whole (256 lines): chunks are cut between its lines.
    for await (const row of exportRows(source, filter, true)) {
      count(counter, row.startMs);
      for (const s of sealer.add(row)) {
        writer.write(out, s.row, s.collectorProof);
        if (out.pos >= EXPORT_CHUNK_BYTES) yield out.take();
      }
    }
    for (const s of sealer.finish()) {
      writer.write(out, s.row, s.collectorProof);
      if (out.pos >= EXPORT_CHUNK_BYTES) yield out.take();
    }
  } else {
    for await (const line of exportLines(source, filter, format, counter, options)) {
      out.utf8(line);
      if (out.pos >= EXPORT_CHUNK_BYTES) yield out.take();
    }
  }
  if (out.pos > 0) yield out.take();
}

/** Rows and bytes of stored measurements per page handed to a worker. */
const PAGE_ROWS = 256;
const PAGE_BYTES = 1 << 20;
/** Pages queued per worker: enough to keep it busy while the main thread reads a page of the store. */
const IN_FLIGHT_PER_WORKER = 4;

/**
 * exportChunks with the JSON Lines written by worker threads: the main
 * thread reads the store page by page and ships rows to the pool, keeping at
 * most IN_FLIGHT_PER_WORKER pages per worker in flight, and yields their bytes in order —
 * the same bytes as exportChunks. Lazy as exportChunks: the store is read
 * only as fast as the consumer takes chunks. Other formats run on the main
 * thread.
 */
export async function* exportChunksParallel(
  source: RecordSource,
  filter: MeasurementFilter,
  format: ExportFormatName,
  pool: JsonlWorkerPool,
  counter: ExportCounter = newCounter(),
  options: ExportOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  if (format !== 'jsonl' || !pool.available) {
    yield* exportChunks(source, filter, format, counter, options);
    return;
  }
  const mode = options.proofs ?? 'compact';
  const pages = new PageBuilder(mode);
  const sealer = new ExportSealer(mode, options.seal);
  const inFlight: Promise<Buffer>[] = [];
  const send = (): void => {
    const done = pool.run(pages.take());
    done.catch(() => undefined); // awaited in order below; not unhandled if the consumer stops first
    inFlight.push(done);
  };
  for await (const row of exportRows(source, filter, true)) {
    count(counter, row.startMs);
    for (const s of sealer.add(row)) pages.add(s.row, s.collectorProof);
    if (pages.rows >= PAGE_ROWS || pages.bytes >= PAGE_BYTES) {
      send();
      while (inFlight.length >= IN_FLIGHT_PER_WORKER * pool.size) {
        const first = inFlight.shift();
        if (first !== undefined) yield await first;
      }
    }
  }
  for (const s of sealer.finish()) pages.add(s.row, s.collectorProof);
  if (pages.rows > 0) send();
  for (let first = inFlight.shift(); first !== undefined; first = inFlight.shift()) yield await first;
}

/** Chunk size handed to streams: large enough to amortise calls, small enough to keep memory flat. */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/** Group lines into chunks of about `size` characters. */
export async function* chunked(lines: AsyncIterable<string> | Iterable<string>, size: number = EXPORT_CHUNK_CHARS): AsyncGenerator<string, void, undefined> {
  let parts: string[] = [];
  let length = 0;
  for await (const line of lines) {
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
