import type { KeyObject } from 'node:crypto';
import { type MeasurementBatchProps, ProtocolError, decodeMeasurement, openBatch } from '@steppe/shared';
import type { IncomingBatch, IncomingMeasurement } from '../store/store.js';
import type { NetworkInfo } from '../geo/network-info.js';
import { closeCodeFor } from './close-codes.js';

/** Who sent the batch: the session's probe, authenticated by its hello. */
export interface BatchSender {
  readonly probeId: string;
  readonly publicKey: KeyObject;
  readonly network: NetworkInfo;
}

/** A verified batch, or the coded refusal to send back. */
export type VerifyResult =
  | { ok: true; batch: IncomingBatch }
  /** `sequence` is the signed header's, once the signature verified (0 before). */
  | { ok: false; error: ProtocolError; measurements: number; sequence: number };

/**
 * Verify a batch completely before anything is stored: the signature over
 * the header's exact bytes against the registered key, the header's probe
 * id, each measurement's digest, then decode and validate every
 * measurement (id, probe id, vocabulary). Any failure rejects the batch
 * whole: a batch is the unit the probe signed, retries and gets acked.
 * The decoded measurements it returns keep their top-level fields and
 * analysis; `observations` and `control` are released once validated.
 */
export function verifyBatch(batch: MeasurementBatchProps, sender: BatchSender, maxMeasurements: number, receivedMs: number): VerifyResult {
  const count = batch.measurements?.length ?? 0;
  let sequence = 0;
  const refuse = (error: ProtocolError): VerifyResult => ({ ok: false, error, measurements: count, sequence });
  if (count > maxMeasurements) {
    return refuse(protocolError('STEPPE_ERR_TOO_LARGE', `batch has ${count} measurements; the limit is ${maxMeasurements}`));
  }
  const opened = openBatch(batch, sender.publicKey, sender.probeId);
  if (!opened.ok) return refuse(protocolError(opened.error.code, opened.error.message));
  const { header, measurements } = opened.value;
  sequence = header.sequence;
  const seen = new Set<string>();
  const incoming: IncomingMeasurement[] = [];
  for (let i = 0; i < measurements.length; i += 1) {
    const raw = measurements[i] ?? new Uint8Array();
    const decoded = decodeMeasurement(raw);
    if (!decoded.ok) {
      const code = decoded.error.code === 'STEPPE_ERR_FRAME_DECODE' ? 'STEPPE_ERR_MEASUREMENT_INVALID' : decoded.error.code;
      return refuse(protocolError(code, `measurement ${i}: ${decoded.error.message}`));
    }
    const m = decoded.value;
    if (m.probeId !== sender.probeId) {
      return refuse(protocolError('STEPPE_ERR_PROBE_MISMATCH', `measurement ${i} names probe ${JSON.stringify(m.probeId.slice(0, 40))}, not the session's probe`));
    }
    const key = Buffer.from(m.id.buffer, m.id.byteOffset, m.id.byteLength).toString('latin1');
    if (seen.has(key)) return refuse(protocolError('STEPPE_ERR_MEASUREMENT_INVALID', `measurement ${i} repeats an id already in this batch`));
    seen.add(key);
    // Validated: the store reads only the top-level fields and the analysis,
    // and the signed bytes (`raw`) are the record. Dropping the decoded
    // observations and control (~90 % of a decoded measurement's ~10 KB of
    // heap) before the batch waits for its group commit keeps the garbage
    // collector from copying and promoting them: measured as the largest
    // single cost of ingest at load (docs/design/dd-002-uplink.md).
    m.observations = null;
    m.control = null;
    incoming.push({ id: m.id, raw, decoded: m });
  }
  return {
    ok: true,
    batch: {
      probeId: sender.probeId,
      sequence: header.sequence,
      header: batch.header ?? new Uint8Array(),
      signature: batch.signature ?? new Uint8Array(),
      receivedMs,
      network: sender.network,
      measurements: incoming,
    },
  };
}

function protocolError(code: ProtocolError['code'], message: string): ProtocolError {
  return new ProtocolError(code, message, closeCodeFor(code));
}
