import { type Json, type Measurement, type MeasurementJson, measurementToJson } from '@steppe/shared';
import { assignCollectorColumns } from './collector-columns.js';
import type { ProvenRow } from './export-row.js';

/** Version of the JSON Lines schema (docs/data-format.md); bump when a field changes meaning. */
export const STEPPE_JSONL_SCHEMA_VERSION = 1;

/**
 * How proofs are written. A batch header lists the digest of every
 * measurement of its batch (up to 500), so repeating it on every line would
 * make an export ~10× larger than its measurements. `compact` writes each
 * batch's header, signature and public key on the first line of the file that
 * needs it and refers to it by `batch_id` afterwards; `full` repeats them on
 * every line, so any single line verifies on its own.
 */
export type ProofMode = 'compact' | 'full';

/** The proof modes. */
export const PROOF_MODES: readonly ProofMode[] = ['compact', 'full'];

/** What a compact export remembers: the batches already written in full. */
export class ProofWriter {
  readonly mode: ProofMode;
  readonly #written = new Set<string>();

  constructor(mode: ProofMode = 'compact') {
    this.mode = mode;
  }

  /** The `proof` object of a row (null for unsigned imports). */
  proof(row: ProvenRow): Json {
    const p = row.proof;
    if (p === null) return null;
    const batchId = batchIdOf(p.signature);
    const out: { [key: string]: Json } = {
      measurement: base64(row.raw),
      batch_id: batchId,
      batch_sequence: p.sequence,
    };
    if (this.claimHeader(batchId)) {
      out['batch_header'] = base64(p.header);
      out['signature'] = base64(p.signature);
      out['public_key'] = base64(p.publicKey);
    }
    return out;
  }

  /** Whether the line being written carries the batch's header, signature and key (then remembered as written). */
  claimHeader(batchId: string): boolean {
    if (this.mode === 'full') return true;
    if (this.#written.has(batchId)) return false;
    this.#written.add(batchId);
    return true;
  }
}

/** A batch's id in exports: the first 16 bytes of its signature, hex (ed25519 signatures are unique per header). */
export function batchIdOf(signature: Uint8Array): string {
  return Buffer.from(signature.buffer, signature.byteOffset, Math.min(16, signature.byteLength)).toString('hex');
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * One measurement in Steppe's own schema: `measurementToJson()` (every field
 * of the wire format, snake_case) with the collector's columns on top:
 * the network fields it derived (the probe's claim is never used), the
 * current verdict (the probe's, or a later re-analysis), where the
 * measurement came from, OONI's own analysis for imports, and the proofs a
 * researcher needs to check nothing was altered: the probe's (`proof`: the
 * exact encoded bytes, the signed batch header, the signature and the
 * probe's public key; `verifyMeasurementProof` in @steppe/shared) and the
 * collector's over its columns (`collector_proof`, JSON text from
 * ExportSealer; null when the export is not sealed). docs/data-format.md.
 */
export function steppeJson(row: ProvenRow, decoded: Measurement, proofs: ProofWriter = new ProofWriter('full'), collectorProof?: string): MeasurementJson {
  const json = measurementToJson(decoded);
  json['schema_version'] = STEPPE_JSONL_SCHEMA_VERSION;
  assignCollectorColumns(json, row);
  json['proof'] = proofs.proof(row);
  // Imports carry no probe signature; their bytes are still given, to be decoded.
  json['raw'] = row.proof === null ? base64(row.raw) : null;
  json['collector_proof'] = collectorProof === undefined ? null : (JSON.parse(collectorProof) as Json);
  return json;
}

/** One JSON Lines line (with its newline). */
export function steppeJsonLine(row: ProvenRow, decoded: Measurement, proofs?: ProofWriter, collectorProof?: string): string {
  return `${JSON.stringify(steppeJson(row, decoded, proofs, collectorProof))}\n`;
}
