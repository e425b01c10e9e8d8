import type { MeasurementJson } from '@steppe/shared';
import type { MeasurementRecord } from '../store/store.js';

/** The columns the collector owns on a measurement's JSON (a stored record has them all). */
export type CollectorColumns = Pick<
  MeasurementRecord,
  'asn' | 'cc' | 'networkName' | 'verdict' | 'blockingType' | 'anomaly' | 'confirmed' | 'failure' | 'fingerprintId' | 'source' | 'receivedMs' | 'reportId' | 'ooni'
>;

/**
 * Set, on a measurement's JSON (`measurementToJson`), the columns the
 * collector owns: the network it derived from the connection (the probe's
 * claim is never used), the current verdict (the probe's, or a later
 * re-analysis), where the measurement came from, and OONI's own analysis for
 * imports. One place for the API's measurement view and the JSON Lines
 * export; the export's byte-level writer (SteppeLineWriter) writes the same
 * keys in this order, and a test holds the two to the same bytes. The
 * collector's seal covers exactly these keys (collector-record.ts).
 */
export function assignCollectorColumns(json: MeasurementJson, r: CollectorColumns): void {
  json['probe_asn'] = r.asn;
  json['probe_cc'] = r.cc;
  json['probe_network_name'] = r.networkName;
  json['verdict'] = r.verdict;
  json['blocking_type'] = r.blockingType;
  json['anomaly'] = r.anomaly;
  json['confirmed'] = r.confirmed;
  json['failure'] = r.failure;
  json['fingerprint_id'] = r.fingerprintId;
  json['source'] = r.source;
  json['received_time'] = new Date(r.receivedMs).toISOString();
  json['report_id'] = r.reportId;
  json['ooni'] = r.ooni === null ? null : { blocking: r.ooni.blocking, accessible: r.ooni.accessible };
}
