import { type MeasurementJson, sha256, wire } from '@steppe/shared';
import type { MeasurementSource, MeasurementWithRaw } from '../store/store.js';
import { type CollectorColumns, assignCollectorColumns } from './collector-columns.js';

/** A decoded steppe.v1.CollectorRecord. */
export type CollectorRecord = InstanceType<typeof wire.CollectorRecord>;

/**
 * The encoded steppe.v1.CollectorRecord of a stored measurement: the
 * columns the collector derived or added (what `assignCollectorColumns`
 * writes on an export line), bound to the measurement by its id and the
 * SHA-256 of its exact bytes. One leaf of an export's Merkle tree
 * (export-sealer.ts).
 */
export function encodeCollectorRecord(row: MeasurementWithRaw): Uint8Array {
  return wire.CollectorRecord.encode({
    measurementId: row.id,
    measurementSha256: sha256(row.raw),
    probeAsn: row.asn,
    probeCc: row.cc,
    probeNetworkName: row.networkName,
    verdict: row.verdict,
    blockingType: row.blockingType,
    anomaly: row.anomaly,
    confirmed: row.confirmed,
    failure: row.failure,
    fingerprintId: row.fingerprintId,
    source: row.source,
    receivedTimeMs: row.receivedMs,
    reportId: row.reportId,
    ooni: row.ooni === null ? null : { blocking: row.ooni.blocking, accessible: row.ooni.accessible },
  }).finish();
}

/** The columns a decoded record holds, in the form `assignCollectorColumns` takes. */
export function columnsOfRecord(r: CollectorRecord): CollectorColumns {
  const o = r.ooni;
  return {
    asn: r.probeAsn,
    cc: r.probeCc,
    networkName: r.probeNetworkName,
    verdict: r.verdict,
    blockingType: r.blockingType,
    anomaly: r.anomaly,
    confirmed: r.confirmed,
    failure: r.failure ?? null,
    fingerprintId: r.fingerprintId ?? null,
    source: r.source as MeasurementSource,
    receivedMs: r.receivedTimeMs,
    reportId: r.reportId ?? null,
    ooni: o === null || o === undefined ? null : { blocking: o.blocking ?? null, accessible: o.accessible ?? null },
  };
}

/** The JSON a line shows for the collector's columns when they are what the record says. */
export function recordJson(r: CollectorRecord): MeasurementJson {
  const json: MeasurementJson = {};
  assignCollectorColumns(json, columnsOfRecord(r));
  return json;
}

/** The JSON keys of the collector's columns, in line order (what the collector's seal covers). */
export const COLLECTOR_COLUMN_KEYS: readonly string[] = Object.keys(recordJson(wire.CollectorRecord.create({ source: 'steppe' })));
