import { type Json, type MeasurementJson, decodeMeasurement, idToString, measurementToJson, sha256 } from '@steppe/shared';
import { assignCollectorColumns } from '../export/collector-columns.js';
import type { MeasurementRecord, StoredMeasurement } from '../store/store.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** The listing form of a measurement: its queryable columns, snake_case. */
export function recordToJson(r: MeasurementRecord): { [key: string]: Json } {
  const id = idToString(r.id);
  return {
    measurement_id: id,
    start_time: new Date(r.startMs).toISOString(),
    received_time: new Date(r.receivedMs).toISOString(),
    probe_id: r.probeId,
    probe_asn: r.asn,
    probe_cc: r.cc,
    probe_network_name: r.networkName,
    domain: r.domain,
    input: r.input,
    category_code: r.categoryCode,
    test_name: r.testName,
    test_version: r.testVersion,
    verdict: r.verdict,
    blocking_type: r.blockingType,
    anomaly: r.anomaly,
    confirmed: r.confirmed,
    failure: r.failure,
    fingerprint_id: r.fingerprintId,
    source: r.source,
    report_id: r.reportId,
    ooni_blocking: r.ooni?.blocking ?? null,
    ooni_accessible: r.ooni?.accessible ?? null,
    measurement_url: `/api/v1/measurements/${id}`,
  };
}

/**
 * The full form: every observation via `measurementToJson` (the same JSON as
 * the probe and the exports), with the network fields the collector derived
 * (never the probe's claim), the current verdict at the top level (the
 * probe's own analysis stays untouched under `analysis`), re-analyses, and a
 * `proof` anyone can check with `verifyMeasurementProof(raw, header,
 * signature, public_key)` from @steppe/shared (null for imports, which carry
 * no probe signature).
 */
export function storedToJson(m: StoredMeasurement): MeasurementJson {
  const decoded = decodeMeasurement(m.raw);
  // Stored bytes were validated on ingest; a failure here means the bytes
  // were damaged, which the caller reports as an internal error.
  if (!decoded.ok) throw decoded.error;
  const json = measurementToJson(decoded.value);
  assignCollectorColumns(json, m);
  json['reanalyses'] = m.reanalyses.map((r) => ({
    analysed_time: new Date(r.analysedMs).toISOString(),
    engine_version: r.engineVersion,
    verdict: r.verdict,
    blocking_type: r.blockingType,
    anomaly: r.anomaly,
    confirmed: r.confirmed,
    failure: r.failure,
    fingerprint_id: r.fingerprintId,
  }));
  json['proof'] = m.proof === null ? null : {
    algorithm: 'ed25519',
    raw_measurement: b64(m.raw),
    raw_measurement_sha256: Buffer.from(sha256(m.raw)).toString('hex'),
    batch_header: b64(m.proof.header),
    batch_sequence: m.proof.sequence,
    signature: b64(m.proof.signature),
    public_key: b64(m.proof.publicKey),
  };
  return json;
}
