import { createInterface } from 'node:readline';
import {
  type Clock,
  SteppeError,
  type VerdictOptions,
  type VerdictReference,
  decodeMeasurement,
  encodeMeasurement,
  verdictFor,
} from '@steppe/shared';
import { openMaybeGzip } from '../export/maybe-gzip.js';
import type { ImportedMeasurement, MeasurementStore } from '../store/store.js';
import { type OoniDisagreement, disagreementOf } from './disagreements.js';
import { convertOoniWebConnectivity } from './from-ooni.js';

/** Options of an OONI import. */
export interface OoniImportOptions {
  /** Where measurements go (the store's unsigned import path). */
  readonly store: Pick<MeasurementStore, 'importMeasurements'>;
  /** Reference data of Steppe's verdict engine (fingerprints, interception roots). */
  readonly reference: VerdictReference;
  readonly verdictOptions?: VerdictOptions;
  readonly clock: Clock;
  /** Measurements per store transaction (default 500). */
  readonly batchSize?: number;
  /** Keep each OONI line beside the converted measurement (compressed by the store; default true). */
  readonly keepOriginal?: boolean;
  /** Stops between lines; what was committed stays committed. */
  readonly signal?: AbortSignal;
  /** Skipped lines listed in the summary at most (default 100; all are counted). */
  readonly maxListedProblems?: number;
  /**
   * Called, in line order, for every measurement where OONI's verdict and
   * Steppe's differ (`--disagreements FILE`); awaited before the next line.
   */
  readonly onDisagreement?: (disagreement: OoniDisagreement) => void | Promise<void>;
}

/** A line that was not imported. */
export interface ImportProblem {
  readonly line: number;
  readonly reason: string;
}

/** What an import did. */
export interface OoniImportSummary {
  /** Lines read, blank ones included. */
  lines: number;
  imported: number;
  duplicates: number;
  skipped: number;
  /** Skipped lines per reason (reasons without line-specific detail). */
  skippedByReason: Record<string, number>;
  /** The first skipped lines, with their line numbers. */
  problems: ImportProblem[];
  /** OONI's `blocking` (rows) × Steppe's verdict (columns) over every converted measurement. */
  agreement: Record<string, Record<string, number>>;
  /** Measurements where the two verdicts differ in OONI's terms (disagreements.ts). */
  disagreements: number;
  /** Of those, the known, deliberate differences, by name. */
  knownDifferences: Record<string, number>;
  /** web_connectivity versions seen. */
  testVersions: Record<string, number>;
  /** True when stopped by the signal before the end of the file. */
  interrupted: boolean;
}

/** A new, empty summary. */
export function emptySummary(): OoniImportSummary {
  return {
    lines: 0, imported: 0, duplicates: 0, skipped: 0, skippedByReason: {}, problems: [], agreement: {}, disagreements: 0, knownDifferences: {},
    testVersions: {}, interrupted: false,
  };
}

function increment(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** The row label of OONI's `blocking` in the agreement table. */
export function ooniBlockingLabel(blocking: string | null): string {
  return blocking === null ? 'null' : blocking;
}

/** The column label of Steppe's verdict ('' is undetermined). */
export function steppeVerdictLabel(verdict: string): string {
  return verdict === '' ? 'undetermined' : verdict;
}

/**
 * Import OONI web_connectivity measurements from JSON lines. Each line is
 * converted (convertOoniWebConnectivity), analysed by Steppe's verdict
 * engine from its observations and control, encoded, checked by the codec
 * and stored through the store's import path with OONI's own
 * blocking/accessible beside Steppe's verdict. A line that cannot be used
 * is counted and listed with its number; it never stops the import.
 */
export async function importOoniLines(lines: AsyncIterable<string>, options: OoniImportOptions): Promise<OoniImportSummary> {
  const batchSize = options.batchSize ?? 500;
  const maxListed = options.maxListedProblems ?? 100;
  const keepOriginal = options.keepOriginal ?? true;
  const summary = emptySummary();
  let batch: ImportedMeasurement[] = [];

  const skip = (line: number, reason: string, kind: string = reason): void => {
    summary.skipped += 1;
    increment(summary.skippedByReason, kind);
    if (summary.problems.length < maxListed) summary.problems.push({ line, reason });
  };
  // One commit in flight while the next batch is converted: the store
  // commits off the event loop (SQLite's writer thread, PostgreSQL), so
  // parsing and committing overlap. A failed commit surfaces at the next flush.
  let committing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await committing;
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    committing = options.store.importMeasurements(items).then((result) => {
      summary.imported += result.stored.length;
      summary.duplicates += result.duplicates.length;
    });
    committing.catch(() => undefined); // awaited at the next flush, not unhandled meanwhile
  };

  for await (const text of lines) {
    summary.lines += 1;
    const lineNo = summary.lines;
    if (options.signal?.aborted === true) {
      summary.interrupted = true;
      break;
    }
    if (text.trim().length === 0) continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (cause) {
      skip(lineNo, `not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`, 'not valid JSON');
      continue;
    }
    const converted = convertOoniWebConnectivity(record);
    if (!converted.ok) {
      skip(lineNo, converted.reason, converted.kind);
      continue;
    }
    const { value } = converted;
    let analysis: ReturnType<typeof verdictFor>;
    try {
      analysis = verdictFor({
        measurement: value.measurement,
        reference: options.reference,
        ...(options.verdictOptions === undefined ? {} : { options: options.verdictOptions }),
      });
    } catch (cause) {
      // An engine bug on one record must not lose the rest of the file.
      skip(lineNo, `the verdict engine failed on it: ${cause instanceof Error ? cause.message : String(cause)}`, 'verdict engine failed');
      continue;
    }
    const raw = encodeMeasurement({ ...value.measurement, analysis });
    const decoded = decodeMeasurement(raw);
    if (!decoded.ok) {
      skip(lineNo, `the converted measurement is not valid: ${decoded.error.message}`, 'converted measurement not valid');
      continue;
    }
    increment(summary.testVersions, value.testVersion);
    const row = summary.agreement[ooniBlockingLabel(value.ooni.blocking)] ?? {};
    increment(row, steppeVerdictLabel(analysis.verdict));
    summary.agreement[ooniBlockingLabel(value.ooni.blocking)] = row;
    const disagreement = disagreementOf(value, analysis, lineNo);
    if (disagreement !== undefined) {
      summary.disagreements += 1;
      if (disagreement.knownDifference !== null) increment(summary.knownDifferences, disagreement.knownDifference);
      await options.onDisagreement?.(disagreement);
    }
    batch.push({
      id: value.id,
      raw,
      decoded: decoded.value,
      source: 'ooni',
      pseudoProbeId: value.measurement.probeId ?? '',
      reportId: value.reportId,
      receivedMs: options.clock.now(),
      network: value.network,
      ooni: value.ooni,
      ...(keepOriginal ? { original: new Uint8Array(Buffer.from(text, 'utf8')) } : {}),
    });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  await committing;
  return summary;
}

/**
 * Import a file of OONI measurements, JSON Lines plain or gzip-compressed
 * (detected by its magic bytes). Streams the file line by line: memory stays
 * flat whatever its size.
 */
export async function importOoniFile(path: string, options: OoniImportOptions): Promise<OoniImportSummary> {
  let input;
  try {
    input = await openMaybeGzip(path);
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_IMPORT', `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    return await importOoniLines(lines, options);
  } catch (cause) {
    if (cause instanceof SteppeError) throw cause;
    throw new SteppeError('STEPPE_ERR_IMPORT', `reading ${path} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  } finally {
    lines.close();
    input.destroy();
  }
}
