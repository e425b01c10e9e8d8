import type { MeasurementRecord } from '../store/store.js';
import { idToString } from '@steppe/shared';

/** Version of the CSV column list (docs/data-format.md); bump when a column changes meaning or position. */
export const CSV_COLUMNS_VERSION = 1;

/** One CSV column: its header name and how a record's value is written. */
export interface CsvColumn {
  readonly name: string;
  readonly description: string;
  readonly value: (r: MeasurementRecord) => string | number | boolean | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The queryable columns, in order (documented in docs/data-format.md). */
export const CSV_COLUMNS: readonly CsvColumn[] = [
  { name: 'id', description: 'measurement id (UUIDv7)', value: (r) => idToString(r.id) },
  { name: 'start_time', description: 'measurement start, ISO 8601 UTC', value: (r) => iso(r.startMs) },
  { name: 'received_time', description: 'when the collector received (or imported) it, ISO 8601 UTC', value: (r) => iso(r.receivedMs) },
  { name: 'probe_id', description: 'pseudonymous probe id ("ooni:<report id>" for imports)', value: (r) => r.probeId },
  { name: 'probe_asn', description: 'AS number the collector derived', value: (r) => r.asn },
  { name: 'probe_cc', description: 'country code the collector derived ("ZZ": unknown)', value: (r) => r.cc },
  { name: 'probe_network_name', description: 'network (AS) name', value: (r) => r.networkName },
  { name: 'domain', description: 'domain measured', value: (r) => r.domain },
  { name: 'input', description: 'URL measured', value: (r) => r.input },
  { name: 'category_code', description: 'Citizen Lab category code', value: (r) => r.categoryCode },
  { name: 'test_name', description: 'test name', value: (r) => r.testName },
  { name: 'test_version', description: 'test version', value: (r) => r.testVersion },
  { name: 'verdict', description: 'current verdict (empty: undetermined)', value: (r) => r.verdict },
  { name: 'blocking_type', description: 'mechanism, finer than the verdict', value: (r) => r.blockingType },
  { name: 'anomaly', description: 'true when the verdict is a blocking verdict', value: (r) => r.anomaly },
  { name: 'confirmed', description: 'true when the evidence is conclusive (fingerprint, interception root, injection)', value: (r) => r.confirmed },
  { name: 'failure', description: 'failure string of the first failing step (empty: none)', value: (r) => r.failure },
  { name: 'fingerprint_id', description: 'blockpage fingerprint that matched', value: (r) => r.fingerprintId },
  { name: 'source', description: '"steppe" or "ooni"', value: (r) => r.source },
  { name: 'report_id', description: "original report id of an import", value: (r) => r.reportId },
  { name: 'ooni_blocking', description: "OONI's own `blocking` for imports (dns, tcp_ip, http-failure, http-diff, false)", value: (r) => r.ooni?.blocking ?? null },
  { name: 'ooni_accessible', description: "OONI's own `accessible` for imports", value: (r) => r.ooni?.accessible ?? null },
];

/**
 * One CSV field (RFC 4180 §2): quoted when it holds a comma, a double quote,
 * CR or LF (or starts/ends with a space), inner quotes doubled. null is empty.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header row, CRLF-terminated as RFC 4180 has it. */
export function csvHeader(): string {
  return `${CSV_COLUMNS.map((c) => csvField(c.name)).join(',')}\r\n`;
}

/** One record as a CSV row. */
export function csvRow(r: MeasurementRecord): string {
  return `${CSV_COLUMNS.map((c) => csvField(c.value(r))).join(',')}\r\n`;
}
